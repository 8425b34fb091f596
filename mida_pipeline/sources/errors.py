"""One exception family for both APIs: what failed, how, and what to do, in one line.

Messages are built from parts that never hold a secret (method, path without
query, status, the API's own error text), and redacted once more on the way
out in case an API echoes a key back.
"""

from __future__ import annotations

from mida_pipeline.sources.redact import redact

# The variables a user fixes for each API, named in hints.
KEY_VARIABLE = {"mida": "MIDA_API_KEY", "bss": "MIDA_BSS_SECRET_KEY"}
URL_VARIABLE = {"mida": "MIDA_API_BASE_URL", "bss": "MIDA_BSS_SYNC_URL"}


class SourceError(Exception):
    """A call to a source API failed for good (after any retries)."""

    default_hint = "retry later; report it if it persists"

    def __init__(
        self,
        api: str,
        method: str,
        path: str,
        status: int | None = None,
        api_message: str | None = None,
        hint: str | None = None,
        detail: str | None = None,
    ):
        self.api, self.method, self.path, self.status = api, method, path, status
        self.api_message = redact(api_message) if api_message else None
        self.hint = hint or self.default_hint
        self.detail = detail
        super().__init__(self._line())

    def _line(self) -> str:
        what = " ".join(str(p) for p in (self.status, self.api_message and f'"{self.api_message}"', self.detail) if p)
        return redact(f"{self.api.upper()} {self.method} {self.path} failed: {what or 'no answer'} - {self.hint}")


class AuthError(SourceError):
    """401 or 403: the key is wrong, revoked, or lacks the right."""

    def __init__(self, api: str, method: str, path: str, status: int | None = None, *args, **kwargs):
        if api == "mida" and status == 403 and path.rstrip("/").endswith("/projects"):
            # Mida lists the company's projects through any project's key, but answers 403 when that project is paused.
            kwargs.setdefault(
                "hint",
                "the first key of MIDA_PROJECT_KEYS is the project the company's projects are "
                "listed through, and it is paused: put an active project's key first",
            )
        kwargs.setdefault(
            "hint",
            f"check {KEY_VARIABLE.get(api, 'the API key')}"
            + (" and MIDA_REGION (keys are per region)" if api == "mida" else ""),
        )
        super().__init__(api, method, path, status, *args, **kwargs)


class NotFoundError(SourceError):
    default_hint = (
        "check the id asked for, the project key in MIDA_PROJECT_KEYS, and that the API key belongs to that project"
    )


class BadRequestError(SourceError):
    default_hint = "the API refused the request's parameters; check the dates and ids asked for"


class RateLimitedError(SourceError):
    default_hint = "the API kept rate-limiting through every retry; lower MIDA_MAX_CONCURRENCY or retry later"


class ServerError(SourceError):
    default_hint = "the API failed through every retry; retry later"


class UnreachableError(SourceError):
    def __init__(self, api: str, *args, **kwargs):
        kwargs.setdefault("hint", f"could not reach the API; check the network and {URL_VARIABLE.get(api, 'the URL')}")
        super().__init__(api, *args, **kwargs)


class MalformedResponseError(SourceError):
    default_hint = "the API did not answer with its documented JSON; retry later, and report it if it persists"


class PeriodMismatchError(SourceError):
    """BSS served (or may have served) a period other than the partition asked for."""


class InvalidInputError(ValueError):
    """A value the pipeline was about to send (project key, date) is not acceptable."""

    def __init__(self, message: str):
        super().__init__(redact(message))


# Everything a source API call can fail with for a reason outside the code: a caller that records such failures
# per unit catches these and nothing else, so a bug still fails the run with its traceback.
API_ERRORS = (SourceError, InvalidInputError)
