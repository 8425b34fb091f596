"""Keeping secrets out of every message, log line and repr.

Clients register their keys here when created; `redact` masks them wherever
they appear, and a logging filter on httpx's loggers masks them in the URLs
httpx logs (a key someone put in MIDA_API_BASE_URL's query string, say).
"""

from __future__ import annotations

import logging
import re
import threading
from urllib.parse import quote

_secrets: set[str] = set()
_lock = threading.Lock()
MASK = "***"
# Credentials in a URL's userinfo part: scheme://user:password@host
_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


def register_secret(value: str | None) -> None:
    if value and len(value) >= 4:
        with _lock:
            _secrets.update({value, quote(value, safe="")})


def redact(text: str) -> str:
    if not text:
        return text
    text = _USERINFO.sub(lambda m: m.group("scheme") + MASK + "@", str(text))
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _secrets or "@" in str(record.msg):
            record.msg = redact(record.getMessage())
            record.args = ()
        return True


_filter = RedactingFilter()
for _name in ("httpx", "httpcore", "mida_pipeline"):
    logging.getLogger(_name).addFilter(_filter)
