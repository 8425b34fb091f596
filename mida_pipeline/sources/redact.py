"""Keeping secrets out of every message, log line and repr: the one place that knows what a secret is.

Three kinds are masked wherever they appear: the keys clients register here
when created; credentials written into a URL (userinfo, and query parameters
named like a key or token); and the object store's credential variables, which
fsspec reads from the environment without telling anyone. A logging filter on
httpx's loggers masks them in the URLs httpx logs (a key someone put in
MIDA_API_BASE_URL's query string, say).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from urllib.parse import quote

_secrets: set[str] = set()
_lock = threading.Lock()
MASK = "***"
# Read by s3fs (botocore) from the environment, so never registered by our code: looked up when masking.
ENVIRONMENT_SECRETS = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID")
# Credentials in a URL's userinfo part: scheme://user:password@host
_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")
# Query parameters whose name says they carry a credential: ?api_key=..., &token=..., &secret=...
_QUERY_SECRET = re.compile(
    r"(?P<name>[?&;][^=&#\s]*(?:key|token|secret|password|passwd|auth|signature|sig)[^=&#\s]*=)[^&#\s\"']+", re.I
)


def register_secret(value: str | None) -> None:
    """Mask `value` from now on; the first secret also puts the filter on the loggers that could print it."""
    if value and len(value) >= 4:
        with _lock:
            _secrets.update({value, quote(value, safe="")})
        install_log_filters()


def redact(text: str) -> str:
    if not text:
        return text
    text = _USERINFO.sub(lambda m: m.group("scheme") + MASK + "@", str(text))
    text = _QUERY_SECRET.sub(lambda m: m.group("name") + MASK, text)
    from_environment = {v for v in map(os.environ.get, ENVIRONMENT_SECRETS) if v and len(v) >= 4}
    for secret in sorted(_secrets | from_environment, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


_filter = RedactingFilter()
# A logger's filter sees only records logged on that very logger, not its children's, so each is named.
LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "mida_pipeline",
    "mida_pipeline.sources.transport",
    "mida_pipeline.sources.mida",
    "mida_pipeline.sources.bss",
)


def install_log_filters() -> None:
    """Called when a client registers its key (never on import); adding the same filter twice is a no-op."""
    for name in LOGGERS:
        logging.getLogger(name).addFilter(_filter)
