"""Checks of every setting that would otherwise fail at AWS after money was spent.

Each check raises ``ConfigError`` naming the setting, the bad value and what is allowed; the batch
models run them before anything is uploaded or invoked.
"""

from __future__ import annotations

import re

from bedrock_ext.errors import ConfigError
from bedrock_ext.request.catalog import EndpointScope, ModelEntry
from bedrock_ext.request.families import BY_NAME
from bedrock_ext.request.records import model_family

# botocore's service model bedrock/2023-04-20, CreateModelInvocationJob roleArn.
ROLE_ARN = re.compile(r"arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+")
# S3 bucket naming rules (general purpose buckets): 3-63 characters, lowercase letters, digits,
# dots and hyphens, starting and ending with a letter or digit, no "..", not an IP address.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
# S3's "safe characters" for object keys (the other characters need URL encoding or special
# handling in some clients, and DuckDB's globbing gives *, ? and [ meaning of their own).
_KEY_SEGMENT = re.compile(r"[A-Za-z0-9!_.'()-]+")


def model_for_batch(entry: ModelEntry, model_id: str, invocation_type: str,
                    scope: EndpointScope = "in_region") -> None:
    """The model offers batch inference with this invocation type through this endpoint (its
    catalog row: a profile-only model refuses its bare id)."""
    if not entry.batch_offered:
        raise ConfigError(f"model {model_id!r} does not offer batch inference (model catalog row "
                          f"{entry.model_id!r}): choose a model whose batch_offered is true")
    if scope == "in_region" and not entry.batch_in_region:
        known = (" or ".join((entry.profile_ids or "").split())
                 or f"us.{entry.model_id} (or the profile of your Region)")
        raise ConfigError(f"model {model_id!r} takes batch jobs only through a cross-Region inference profile "
                          f"(AWS lists no single-Region batch support for {entry.model_id}): set "
                          f"bedrock_model_id to an inference profile id: {known}")
    if invocation_type not in entry.invocation_types():
        raise ConfigError(f"model {model_id!r} takes batch records of invocation type "
                          f"{' or '.join(entry.invocation_types())}, not {invocation_type!r}")


def inference_params(entry: ModelEntry, model_id: str, *, max_tokens: int, temperature: float | None,
                     top_p: float | None, top_k: int | None) -> None:
    """max_tokens (the catalog's maximum output), temperature, top_p, top_k within what the model
    accepts, and no pair of them that the model refuses together (the catalog's exclusive_params)."""
    family = model_family(model_id)
    ranges = BY_NAME[family]
    limit = entry.max_output_tokens
    if not 1 <= max_tokens <= limit:
        raise ConfigError(f"max_tokens {max_tokens} is out of range for {model_id}: use 1 to {limit}")
    if temperature is not None:
        _within("temperature", temperature, ranges.temperature, model_id)
    if top_p is not None:
        _within("top_p", top_p, ranges.top_p, model_id)
    if top_k is not None:
        if ranges.top_k is None:
            why = "Llama has none" if family == "llama" else "no known request field"
            raise ConfigError(f"top_k is not a parameter bedrock_ext can set for {model_id} ({why}): "
                              "leave it unset")
        _within("top_k", top_k, ranges.top_k, model_id)
    values = {"temperature": temperature, "top_p": top_p, "top_k": top_k, "max_tokens": max_tokens}
    for a, b in entry.refused_pairs():
        if values.get(a) is not None and values.get(b) is not None:
            raise ConfigError(f"{a} ({values[a]}) and {b} ({values[b]}) are both set, and {model_id} refuses "
                              f"the pair (Bedrock: \"`{a}` and `{b}` cannot both be specified for this "
                              "model\"; every record would fail): set one of them to null (the package "
                              "default is temperature: 0.0, so to use top_p set temperature: null)")


def _within(name: str, value: float, bounds: tuple[float, float], model_id: str) -> None:
    low, high = bounds
    if not low <= value <= high:
        raise ConfigError(f"{name} {value} is out of range for {model_id}: use {low} to {high}")


def s3_location(bucket: str, prefix: str) -> None:
    """A bucket name S3 accepts and a prefix of safe characters with no '.' or '..' segments."""
    if not _BUCKET.fullmatch(bucket) or ".." in bucket or _IP.fullmatch(bucket):
        raise ConfigError(f"s3_bucket {bucket!r} is not a valid S3 bucket name: 3 to 63 lowercase "
                          "letters, digits, dots and hyphens, starting and ending with a letter or digit")
    if prefix.startswith("/"):
        raise ConfigError(f"s3_prefix {prefix!r} starts with '/': S3 keys have no leading slash, and it would "
                          f"be dropped silently; use {prefix.lstrip('/')!r}")
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


# botocore's service model bedrock/2023-04-20: KmsKeyId, TagKey/TagValue, SubnetId/SecurityGroupId.
KMS_KEY_ID = re.compile(r"(arn:aws(-[^:]+)?:kms:[a-zA-Z0-9-]*:[0-9]{12}:((key/[a-zA-Z0-9-]{36})|"
                        r"(alias/[a-zA-Z0-9-_/]+)))|([a-zA-Z0-9-]{36})|(alias/[a-zA-Z0-9-_/]+)")
TAG_TEXT = re.compile(r"[a-zA-Z0-9\s._:/=+@-]*")
VPC_ID = re.compile(r"[-0-9a-zA-Z]+")


def kms_key_id(value: str | None) -> None:
    if value is not None and (not KMS_KEY_ID.fullmatch(value) or len(value) > 2048):
        raise ConfigError(f"output_kms_key_id {value!r} is not a KMS key: use a key id (36 characters), "
                          "a key ARN (arn:aws:kms:<region>:<account>:key/<id>), an alias (alias/<name>) "
                          "or an alias ARN")


def tags(values: dict[str, str], setting: str = "job_tags", product_keys: tuple[str, ...] = ()) -> None:
    """Tag keys 1-128 and values 0-256 characters of letters, digits, spaces and . _ : / = + @ -;
    keys starting with aws: are reserved by AWS; at most 200 on a job, the product's own tags
    (``product_keys``, added to every job) included."""
    for key, value in values.items():
        if not (1 <= len(key) <= 128 and TAG_TEXT.fullmatch(key)) or key.lower().startswith("aws:"):
            raise ConfigError(f"{setting} key {key!r} is not allowed: 1 to 128 letters, digits, spaces and "
                              ". _ : / = + @ -, not starting with aws:")
        if not isinstance(value, str) or not (len(value) <= 256 and TAG_TEXT.fullmatch(value)):
            raise ConfigError(f"{setting} value {value!r} (key {key!r}) is not allowed: a string of up to 256 "
                              "letters, digits, spaces and . _ : / = + @ -")
    total = len(set(values) | set(product_keys))
    if total > 200:
        extra = f" plus the product's {len(product_keys)} ({', '.join(product_keys)})" if product_keys else ""
        raise ConfigError(f"{setting} has {len(values)} tags{extra}: {total} on each job, and a batch job "
                          f"takes at most 200: remove {total - 200}")


def vpc(subnet_ids: tuple[str, ...], security_group_ids: tuple[str, ...]) -> None:
    """Both lists or neither; 1-16 subnets, 1-5 security groups, ids of letters, digits and -."""
    if not subnet_ids and not security_group_ids:
        return
    lists = (("vpc_subnet_ids", subnet_ids, 16), ("vpc_security_group_ids", security_group_ids, 5))
    for name, ids, most in lists:
        if not 1 <= len(ids) <= most:
            raise ConfigError(f"{name} must list 1 to {most} ids when a VPC is used (both vpc_subnet_ids and "
                              f"vpc_security_group_ids), got {len(ids)}")
        bad = [i for i in ids if not (isinstance(i, str) and len(i) <= 32 and VPC_ID.fullmatch(i))]
        if bad:
            raise ConfigError(f"{name} has ids that are not AWS ids ({', '.join(map(repr, bad))}): "
                              "e.g. subnet-0abc1234, sg-0abc1234")


def job_timeout_hours(value: int | None) -> None:
    if value is not None and not 24 <= value <= 168:
        raise ConfigError(f"job_timeout_hours {value} is out of range: Bedrock takes 24 to 168 hours")
