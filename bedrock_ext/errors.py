"""The one error tree of bedrock_ext: every error a user can hit is a BedrockExtError."""

from __future__ import annotations


class BedrockExtError(Exception):
    """Base class: a problem the user can act on; the message names the bad value and the fix."""


class OneLineError(BedrockExtError):
    """A refusal the user acts on, not a bug: shown as its one line (type and message) wherever a
    traceback would be printed. dbt-duckdb prints a Python model's exception with
    ``traceback.format_exception``, which reads ``__traceback__`` and the chained context; both
    read as absent here. The interpreter keeps the real traceback (``sys.exc_info()``)."""

    __traceback__ = property(lambda self: None, lambda self, value: None)  # type: ignore[assignment]
    __suppress_context__ = property(lambda self: True, lambda self, value: None)  # type: ignore[assignment]


class ConfigError(OneLineError):
    """A configuration value (dbt var, profile key, env var, CLI flag) is missing or invalid."""


class EmulatorError(BedrockExtError):
    """The local emulator could not start, or was asked for something it cannot do."""


class ShardingError(BedrockExtError):
    """Records cannot be split under the configured quotas (e.g. one record above a limit)."""


class BedrockRequestError(BedrockExtError):
    """Bedrock refused a request (validation, access, conflict); the message is AWS's."""


class ThrottledError(BedrockRequestError):
    """Bedrock throttled the request even after botocore's retries."""


class QuotaExceededError(BedrockRequestError):
    """The model already has its maximum of submitted and in-progress batch jobs."""


class JobNotFoundError(BedrockRequestError):
    """No batch job with that ARN or id exists in this account and region."""


class JobTimeoutError(BedrockExtError):
    """Waiting for batch jobs took longer than the timeout; carries the last state seen."""

    def __init__(self, message: str, jobs: object) -> None:
        super().__init__(message)
        self.jobs = jobs


class BudgetExceededError(OneLineError):
    """The pre-submit cost estimate is above the configured budget."""


class ExportError(BedrockExtError):
    """Batch input could not be written as planned (e.g. the requests changed mid-export)."""


class ConcurrentBuildError(OneLineError):
    """Another build holds the export-and-submit lock of the same S3 prefix."""
