"""HTTP clients of the two source APIs: one shared transport, one module per API. No Dagster here."""

from mida_pipeline.sources.bss import BssClient, BssSync, parse_metrics
from mida_pipeline.sources.errors import (
    AuthError,
    BadRequestError,
    InvalidInputError,
    MalformedResponseError,
    NotFoundError,
    PeriodMismatchError,
    RateLimitedError,
    ServerError,
    SourceError,
    UnreachableError,
)
from mida_pipeline.sources.mida import AsyncMidaClient, validate_project_key
from mida_pipeline.sources.transport import RetryPolicy

__all__ = [
    "AsyncMidaClient",
    "AuthError",
    "BadRequestError",
    "BssClient",
    "BssSync",
    "InvalidInputError",
    "MalformedResponseError",
    "NotFoundError",
    "PeriodMismatchError",
    "RateLimitedError",
    "RetryPolicy",
    "ServerError",
    "SourceError",
    "UnreachableError",
    "parse_metrics",
    "validate_project_key",
]
