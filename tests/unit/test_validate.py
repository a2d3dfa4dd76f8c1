"""Settings that AWS would refuse after money was spent are refused first, naming the setting."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bedrock_ext.errors import ConfigError
from bedrock_ext.pipeline.config import BatchConfig
from tests.example import EXAMPLE_TASK

TASK = {"input": "transcripts", "id_column": "call_id",
        "prompt": {"system": EXAMPLE_TASK.system, "user": EXAMPLE_TASK.user},
        "answer_schema": dict(EXAMPLE_TASK.answer_schema)}
GOOD: dict[str, Any] = {
    "bedrock_ext_tasks": json.dumps({"call_summaries": TASK}), "invocation_type": "Converse",
    "bedrock_model_id": "anthropic.claude-3-haiku-20240307-v1:0", "max_tokens": "512",
    "temperature": "0.0", "top_p": "None", "top_k": "None", "s3_bucket": "call-summaries-local",
    "s3_prefix": "call-summaries", "role_arn": "arn:aws:iam::123456789012:role/BedrockBatchInferenceRole",
    "wait": "True", "poll_interval_s": "5", "job_timeout_s": "86400", "max_records_per_file": "50000",
    "max_records_per_job": "50000", "max_bytes_per_file": "1073741824", "max_bytes_per_job": "5368709120",
    "min_records_per_job": "100", "max_concurrent_jobs": "20", "max_attempts": "3", "retry_failed": "False",
    "retry_max_wait_hours": "24", "bedrock_budget_usd": "25", "budget_basis": "upper_bound",
    "small_batch_policy": "defer",
    "overlong_policy": "truncate", "output_kms_key_id": "None", "job_tags": "{}", "vpc_subnet_ids": "[]",
    "vpc_security_group_ids": "[]", "job_timeout_hours": "None", "dbt_project_name": "call_summaries",
}


def test_the_project_defaults_are_valid() -> None:
    config = BatchConfig.from_dbt(GOOD)
    assert config.top_p is None and config.retry_failed is False and config.max_tokens == 512


@pytest.mark.parametrize(("name", "value", "message"), [
    ("temperature", "5", "temperature 5.0 is out of range for anthropic.claude-3-haiku-20240307-v1:0: use 0.0 to 1.0"),
    ("temperature", "nan", "dbt var 'temperature' must be a float"),
    ("top_p", "1.5", "top_p 1.5 is out of range"),
    ("top_k", "501", "top_k 501 is out of range"),
    ("max_tokens", "5000", "max_tokens 5000 is out of range for anthropic.claude-3-haiku-20240307-v1:0: use 1 to 4096"),
    ("max_tokens", "1.5", "dbt var 'max_tokens' must be a int"),
    ("max_attempts", "0", "max_attempts must be >= 1, got 0"),
    ("min_records_per_job", "-1", "min_records_per_job must be >= 1"),
    ("s3_prefix", "../../escape", "s3_prefix '../../escape' is not allowed"),
    ("s3_prefix", "my prefix+x%20#?", "s3_prefix 'my prefix+x%20#?' is not allowed"),
    ("s3_prefix", "a/./b", "is not allowed"),
    ("s3_prefix", "/", "starts with '/'"),
    ("s3_prefix", "/abs", "s3_prefix '/abs' starts with '/': S3 keys have no leading slash, and it would be dropped "
                          "silently; use 'abs'"),

    ("s3_bucket", "My_Bucket", "s3_bucket 'My_Bucket' is not a valid S3 bucket name"),
    ("s3_bucket", "192.168.0.1", "is not a valid S3 bucket name"),
    ("role_arn", "BedrockRole", "role_arn 'BedrockRole' is not an IAM role ARN"),
    ("small_batch_policy", "later", "small_batch_policy 'later' is not allowed: use defer, fail, on_demand"),
    ("wait", "maybe", "dbt var 'wait' must be a bool"),
    ("retry_max_wait_hours", "-1", "retry_max_wait_hours must be >= 0"),
    ("bedrock_model_id", "acme.unknown-v1", "is not in the model catalog"),
])
def test_bad_setting_is_refused_naming_it(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        BatchConfig.from_dbt({**GOOD, name: value})
    assert message in str(exc.value)


@pytest.mark.parametrize(("model", "extra"), [
    ("meta.llama3-1-8b-instruct-v1:0", {"top_k": "10"}),  # Llama's body has no top_k
    ("us.amazon.nova-lite-v1:0", {"max_tokens": "20000"}),
])
def test_family_specific_limits(model: str, extra: dict) -> None:
    with pytest.raises(ConfigError):
        BatchConfig.from_dbt({**GOOD, "bedrock_model_id": model, **extra})


@pytest.mark.parametrize("model", [
    "us.anthropic.claude-3-5-haiku-20241022-v1:0", "global.anthropic.claude-sonnet-4-20250514-v1:0",
    "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
])
def test_real_id_forms_are_accepted(model: str) -> None:
    assert BatchConfig.from_dbt({**GOOD, "bedrock_model_id": model, "max_tokens": "4096"}).max_tokens == 4096


def test_prefix_with_nested_safe_segments_is_accepted() -> None:
    assert BatchConfig.from_dbt({**GOOD, "s3_prefix": "team-a/call_summaries/v1.0/"}).s3_prefix


@pytest.mark.parametrize(("name", "value", "message"), [
    ("output_kms_key_id", "my key", "output_kms_key_id 'my key' is not a KMS key"),
    ("job_tags", '{"aws:team": "x"}', "job_tags key 'aws:team' is not allowed"),
    ("job_tags", '{"team": "<b>"}', "job_tags value '<b>' (key 'team') is not allowed"),
    ("job_tags", '["a"]', "dbt var 'job_tags' must be a mapping of tag keys to values"),
    ("vpc_subnet_ids", '["subnet-1"]', "vpc_security_group_ids must list 1 to 5 ids"),
    ("vpc_subnet_ids", '["subnet 1"]', "vpc_subnet_ids has ids that are not AWS ids ('subnet 1')"),
    ("job_timeout_hours", "200", "job_timeout_hours 200 is out of range: Bedrock takes 24 to 168 hours"),
])
def test_bad_job_option_is_refused_naming_it(name: str, value: str, message: str) -> None:
    settings = {**GOOD, name: value}
    if name == "vpc_subnet_ids" and "subnet 1" in value:
        settings["vpc_security_group_ids"] = '["sg-1"]'
    with pytest.raises(ConfigError) as exc:
        BatchConfig.from_dbt(settings)
    assert message in str(exc.value)


def test_job_options_parse_and_the_product_tags_are_added() -> None:
    config = BatchConfig.from_dbt({**GOOD, "output_kms_key_id": "alias/bedrock-out", "job_tags": '{"team": "bi"}',
                                   "vpc_subnet_ids": '["subnet-1", "subnet-2"]', "vpc_security_group_ids": '["sg-1"]',
                                   "job_timeout_hours": "48"})
    assert (config.output_kms_key_id, config.vpc_subnet_ids, config.job_timeout_hours) == (
        "alias/bedrock-out", ("subnet-1", "subnet-2"), 48)
    assert dict(config.tags_for("a" * 32, "call_summaries")) == {"team": "bi", "bedrock-ext:dbt-project": "call_summaries",
                                               "bedrock-ext:task": "call_summaries",
                                               "bedrock-ext:job-key": "a" * 24}
