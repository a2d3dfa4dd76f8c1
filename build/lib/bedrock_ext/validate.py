"""Checks of every setting that would otherwise fail at AWS after money was spent.

Each check raises ``ConfigError`` naming the setting, the bad value and what is allowed; the batch
models run them before anything is uploaded or invoked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bedrock_ext.errors import ConfigError
from bedrock_ext.records import model_family

# botocore's service model bedrock/2023-04-20, CreateModelInvocationJob roleArn.
ROLE_ARN = re.compile(r"arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+")
# S3 bucket naming rules (general purpose buckets): 3-63 characters, lowercase letters, digits,
# dots and hyphens, starting and ending with a letter or digit, no "..", not an IP address.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
# S3's "safe characters" for object keys (the other characters need URL encoding or special
# handling in some clients, and DuckDB's globbing gives *, ? and [ meaning of their own).
_KEY_SEGMENT = re.compile(r"[A-Za-z0-9!_.'()-]+")


@dataclass(frozen=True, kw_only=True)
class ParamRanges:
    """Allowed inference parameters of a model family in its InvokeModel body (AWS docs)."""

    temperature: tuple[float, float] = (0.0, 1.0)
    top_p: tuple[float, float] = (0.0, 1.0)
    top_k: tuple[int, int] | None = None  # None: the family's body has no top_k


_RANGES = {
    "anthropic": ParamRanges(top_k=(0, 500)),
    "nova": ParamRanges(top_k=(0, 128)),
    "llama": ParamRanges(),
}
# Maximum output tokens by model id prefix (after any inference-profile or ARN prefix), most
# specific first. Until the model catalog exists these are per-generation figures from the
# Bedrock model cards; an unlisted Claude gets the smallest Claude limit.
_MAX_OUTPUT = (
    ("anthropic.claude-3-5", 8192), ("anthropic.claude-3-7", 64_000), ("anthropic.claude-3", 4096),
    ("anthropic.claude-opus-4", 32_000), ("anthropic.claude-sonnet-4", 64_000),
    ("anthropic.claude-haiku-4", 64_000), ("anthropic.", 4096),
    ("amazon.nova", 10_000), ("meta.llama", 2048),
)


def _base_model(model_id: str) -> str:
    tail = model_id.rsplit("/", 1)[-1]
    first, _, rest = tail.partition(".")
    return rest if first in ("us", "eu", "apac", "global", "us-gov", "ca", "jp", "au") else tail


def max_output_tokens(model_id: str) -> int:
    base = _base_model(model_id)
    return next((limit for prefix, limit in _MAX_OUTPUT if base.startswith(prefix)), 4096)


def inference_params(model_id: str, *, max_tokens: int, temperature: float, top_p: float | None,
                     top_k: int | None) -> None:
    """max_tokens, temperature, top_p, top_k within what the model accepts."""
    family = model_family(model_id)
    ranges = _RANGES[family]
    limit = max_output_tokens(model_id)
    if not 1 <= max_tokens <= limit:
        raise ConfigError(f"max_tokens {max_tokens} is out of range for {model_id}: use 1 to {limit}")
    _within("temperature", temperature, ranges.temperature, model_id)
    if top_p is not None:
        _within("top_p", top_p, ranges.top_p, model_id)
    if top_k is not None:
        if ranges.top_k is None:
            raise ConfigError(f"top_k is not a parameter of {family} models ({model_id}): leave it unset")
        _within("top_k", top_k, ranges.top_k, model_id)


def _within(name: str, value: float, bounds: tuple[float, float], model_id: str) -> None:
    low, high = bounds
    if not low <= value <= high:
        raise ConfigError(f"{name} {value} is out of range for {model_id}: use {low} to {high}")


def s3_location(bucket: str, prefix: str) -> None:
    """A bucket name S3 accepts and a prefix of safe characters with no '.' or '..' segments."""
    if not _BUCKET.fullmatch(bucket) or ".." in bucket or _IP.fullmatch(bucket):
        raise ConfigError(f"s3_bucket {bucket!r} is not a valid S3 bucket name: 3 to 63 lowercase "
                          "letters, digits, dots and hyphens, starting and ending with a letter or digit")
    segments = prefix.strip("/").split("/")
    if prefix.strip("/") == "" or any(not _KEY_SEGMENT.fullmatch(s) or s in (".", "..") for s in segments):
        raise ConfigError(f"s3_prefix {prefix!r} is not allowed: use one or more '/'-separated segments of "
                          "letters, digits and ! _ . ' ( ) - (no empty, '.' or '..' segments, no spaces, "
                          "no % + # ? * [ ])")


def role_arn(value: str) -> None:
    if not ROLE_ARN.fullmatch(value) or len(value) > 2048:
        raise ConfigError(f"role_arn {value!r} is not an IAM role ARN: expected "
                          "arn:aws:iam::<12-digit account>:role/<name> (the Bedrock batch service role)")


def at_least(name: str, value: float | None, low: float) -> None:
    if value is not None and value < low:
        raise ConfigError(f"{name} must be >= {low:g}, got {value:g}")


def one_of(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{name} {value!r} is not allowed: use {', '.join(allowed)}")
