"""Request validation in the AWS style: `1 validation error detected: Value ... at '...' ...`.

Patterns and ranges are copied from botocore's service model `bedrock/2023-04-20`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from bedrock_ext.emulator.exceptions import ValidationException

JOB_NAME = re.compile(r"[a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9\+\-\.]){0,63}")
ROLE_ARN = re.compile(r"arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+")
TOKEN = re.compile(r"[a-zA-Z0-9]{1,256}(-*[a-zA-Z0-9]){0,256}")
S3_URI = re.compile(r"s3://[a-z0-9][\.\-a-z0-9]{1,61}[a-z0-9](/.*)?")
JOB_IDENTIFIER = re.compile(
    r"((arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:model-invocation-job/)?[a-z0-9]{12})"
)
KMS_KEY_ID = re.compile(r"(arn:aws(-[^:]+)?:kms:[a-zA-Z0-9-]*:[0-9]{12}:((key/[a-zA-Z0-9-]{36})|"
                        r"(alias/[a-zA-Z0-9-_/]+)))|([a-zA-Z0-9-]{36})|(alias/[a-zA-Z0-9-_/]+)")
TAG_TEXT = re.compile(r"[a-zA-Z0-9\s._:/=+@-]*")
VPC_ID = re.compile(r"[-0-9a-zA-Z]+")
STATUSES = ("Submitted", "InProgress", "Completed", "Failed", "Stopping", "Stopped",
            "PartiallyCompleted", "Expired", "Validating", "Scheduled")


# Our own limit on nesting (AWS documents none that we could read; its services refuse deep
# nesting with a 400): deeper bodies are refused, never parsed into a recursion error (a 500).
MAX_JSON_DEPTH = 64


def parse_json(raw: bytes | str, what: str, not_json: str | None = None) -> Any:
    """A request body or record as JSON, or a ValidationException naming ``what``: not JSON
    (``not_json``: the service's own message for that), or nested deeper than MAX_JSON_DEPTH."""
    try:
        value = json.loads(raw)
    except RecursionError:
        value = None
        too_deep = True
    except ValueError:
        raise ValidationException(not_json or f"{what} is not valid JSON.") from None
    else:
        too_deep = _depth(value) > MAX_JSON_DEPTH
    if too_deep:
        raise ValidationException(f"{what} is nested more than {MAX_JSON_DEPTH} levels deep.")
    return value


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_JSON_DEPTH:
            break
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def fail(value: Any, path: str, constraint: str) -> ValidationException:
    shown = "null" if value is None else f"'{value}'"
    return ValidationException(
        f"1 validation error detected: Value {shown} at '{path}' failed to satisfy constraint: "
        f"{constraint}"
    )


def require(body: Mapping[str, Any], *keys: str) -> None:
    for key in keys:
        if body.get(key) is None:
            raise fail(None, key, "Member must not be null")


def pattern(value: Any, path: str, regex: re.Pattern[str], max_len: int | None = None) -> None:
    if not isinstance(value, str) or not regex.fullmatch(value):
        raise fail(value, path, f"Member must satisfy regular expression pattern: {regex.pattern}")
    if max_len is not None and len(value) > max_len:
        raise fail(value, path, f"Member must have length less than or equal to {max_len}")


def int_range(value: Any, path: str, low: int, high: int) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise fail(value, path, f"Member must have value between {low} and {high}")


def one_of(value: Any, path: str, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        raise fail(value, path, f"Member must satisfy enum value set: [{', '.join(allowed)}]")


def structure(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise fail(value, path, "Member must be a structure")
    return value


def create_request(body: Mapping[str, Any]) -> None:
    """Validate a CreateModelInvocationJob body as the service does before creating anything."""
    require(body, "jobName", "roleArn", "modelId", "inputDataConfig", "outputDataConfig")
    pattern(body["jobName"], "jobName", JOB_NAME, 63)
    pattern(body["roleArn"], "roleArn", ROLE_ARN, 2048)
    if body.get("clientRequestToken") is not None:
        pattern(body["clientRequestToken"], "clientRequestToken", TOKEN, 256)
    int_range(body.get("timeoutDurationInHours"), "timeoutDurationInHours", 24, 168)
    one_of(body.get("modelInvocationType"), "modelInvocationType", ("InvokeModel", "Converse"))
    if not isinstance(body["modelId"], str) or not 1 <= len(body["modelId"]) <= 2048:
        raise fail(body["modelId"], "modelId", "Member must be a string of length 1 to 2048")
    s3_in = structure(body["inputDataConfig"], "inputDataConfig").get("s3InputDataConfig")
    s3_out = structure(body["outputDataConfig"], "outputDataConfig").get("s3OutputDataConfig")
    if not isinstance(s3_in, dict):
        raise fail(None, "inputDataConfig.s3InputDataConfig", "Member must not be null")
    if not isinstance(s3_out, dict):
        raise fail(None, "outputDataConfig.s3OutputDataConfig", "Member must not be null")
    pattern(s3_in.get("s3Uri"), "inputDataConfig.s3InputDataConfig.s3Uri", S3_URI, 1024)
    pattern(s3_out.get("s3Uri"), "outputDataConfig.s3OutputDataConfig.s3Uri", S3_URI, 1024)
    one_of(s3_in.get("s3InputFormat"), "inputDataConfig.s3InputDataConfig.s3InputFormat", ("JSONL",))
    if s3_out.get("s3EncryptionKeyId") is not None:
        path = "outputDataConfig.s3OutputDataConfig.s3EncryptionKeyId"
        pattern(s3_out["s3EncryptionKeyId"], path, KMS_KEY_ID, 2048)
    if body.get("vpcConfig") is not None:
        vpc_config(structure(body["vpcConfig"], "vpcConfig"))
    tag_list(body.get("tags"))


def tag_list(tags: Any) -> None:
    """``tags``: at most 200 ``{key, value}``; keys 1-128 and values 0-256 of TagKey's pattern."""
    tags = tags or []
    if not isinstance(tags, list) or not all(isinstance(t, dict) for t in tags):
        raise fail(tags, "tags", "Member must be a list of structures")
    if len(tags) > 200:
        raise fail(len(tags), "tags", "Member must have length less than or equal to 200")
    for i, tag in enumerate(tags, start=1):
        require(tag, "key", "value")
        pattern(tag["key"], f"tags.{i}.member.key", TAG_TEXT, 128)
        if str(tag["key"]).lower().startswith("aws:"):
            raise fail(tag["key"], f"tags.{i}.member.key",
                       "Member must not start with 'aws:' (the prefix is reserved for AWS use)")
        if not tag["key"]:
            raise fail(tag["key"], f"tags.{i}.member.key", "Member must have length greater than or equal to 1")
        pattern(tag["value"], f"tags.{i}.member.value", TAG_TEXT, 256)


def vpc_config(vpc: Mapping[str, Any]) -> None:
    """``vpcConfig``: 1-16 subnetIds and 1-5 securityGroupIds, each up to 32 of [-0-9a-zA-Z]."""
    require(vpc, "subnetIds", "securityGroupIds")
    for name, most in (("subnetIds", 16), ("securityGroupIds", 5)):
        ids = vpc[name]
        if not isinstance(ids, list) or not 1 <= len(ids) <= most:
            raise fail(ids, f"vpcConfig.{name}", f"Member must have length between 1 and {most}")
        for value in ids:
            pattern(value, f"vpcConfig.{name}.member", VPC_ID, 32)


def job_identifier(value: str) -> str:
    """The 12-character job id inside a job ARN or id; ValidationException when malformed."""
    if not JOB_IDENTIFIER.fullmatch(value):
        raise fail(value, "jobIdentifier",
                   f"Member must satisfy regular expression pattern: {JOB_IDENTIFIER.pattern}")
    return value.rsplit("/", 1)[-1]
