"""What a Mida project key may look like: the one statement of the rule, for the client and the settings alike.

A key becomes a path segment (`/project/{key}/...`) and a lake folder (`project_key=<key>`), so separators and
`..` are refused; Mida's own keys are short words of letters, digits, '-', '_' and '.'.
"""

from __future__ import annotations

import re

PROJECT_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
DESCRIPTION = "letters, digits, '-', '_' and '.', up to 128"


def is_project_key(key: object) -> bool:
    return isinstance(key, str) and bool(PROJECT_KEY.match(key)) and ".." not in key
