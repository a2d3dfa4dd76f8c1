"""Issue 18: a build's job options reach CreateModelInvocationJob exactly as set, the uploads use
the same KMS key, dim_batch_jobs shows them, and a bad value is refused before any upload."""

from __future__ import annotations

import json
import os

import boto3

from bedrock_ext.warehouse.plugin import local_emulator
from tests.dbt.conftest import DbtProject, assert_all_passed, statuses, write_transcripts

KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OPTIONS = {
    "poll_interval_s": 0.05,
    "min_records_per_job": 1,
    "output_kms_key_id": KEY,
    "job_tags": {"team": "analytics", "cost-center": "42"},
    "vpc_subnet_ids": ["subnet-0abc1234", "subnet-0def5678"],
    "vpc_security_group_ids": ["sg-0abc1234"],
    "job_timeout_hours": 72,
}


def test_job_options_reach_the_job_the_uploads_and_the_marts(dbt_project: DbtProject) -> None:
    emulator = local_emulator(dbt_project.root / "target" / "emulator")
    emulator.configure(quotas={"min_records_per_job": 1})
    write_transcripts(dbt_project, rows=30)
    assert_all_passed(dbt_project.dbt(["build"], **OPTIONS))
    (job,) = emulator.backend.jobs.values()
    sent = job.request
    assert sent["outputDataConfig"]["s3OutputDataConfig"]["s3EncryptionKeyId"] == KEY
    assert sent["vpcConfig"] == {
        "subnetIds": ["subnet-0abc1234", "subnet-0def5678"],
        "securityGroupIds": ["sg-0abc1234"],
    }
    assert sent["timeoutDurationInHours"] == 72
    tags = {t["key"]: t["value"] for t in sent["tags"]}
    assert tags == {
        "team": "analytics",
        "cost-center": "42",
        "bedrock-ext:dbt-project": "call_summaries",
        "bedrock-ext:task": "call_summaries",
        "bedrock-ext:job-key": tags["bedrock-ext:job-key"],
    }
    bedrock = boto3.client("bedrock", endpoint_url=emulator.endpoint_url, region_name="us-east-1")
    assert bedrock.list_tags_for_resource(resourceARN=job.job_arn)["tags"] == sent["tags"]

    s3 = boto3.client("s3", endpoint_url=emulator.endpoint_url, region_name="us-east-1")
    bucket = os.environ["BEDROCK_EXT_S3_BUCKET"]
    inputs = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="call-summaries/input/")["Contents"]]
    heads = [s3.head_object(Bucket=bucket, Key=k) for k in inputs]
    assert heads and all(h["ServerSideEncryption"] == "aws:kms" and h["SSEKMSKeyId"] == KEY for h in heads)

    ((key, job_tags, in_vpc, hours),) = dbt_project.query(
        "select output_kms_key_id, job_tags::varchar, is_in_vpc, job_timeout_hours from dim_batch_jobs"
    )
    assert (key, json.loads(job_tags)["team"], in_vpc, hours) == (KEY, "analytics", True, 72)


def test_a_bad_job_option_is_refused_before_any_upload(dbt_project: DbtProject) -> None:
    write_transcripts(dbt_project, rows=30)
    for name, value, message in (
        ("output_kms_key_id", "not a key", "output_kms_key_id 'not a key' is not a KMS key"),
        ("job_tags", {"aws:reserved": "x"}, "job_tags key 'aws:reserved' is not allowed"),
        ("vpc_security_group_ids", [], "vpc_security_group_ids must list 1 to 5 ids"),
        ("job_timeout_hours", 12, "job_timeout_hours 12 is out of range"),
    ):
        result = dbt_project.dbt(["build"], **{**OPTIONS, name: value})
        assert not result.success and statuses(result)["bedrock_batch_input"] == "error"
        text = next(str(r.message) for r in result.result if r.node.name == "bedrock_batch_input")
        assert message in text, text
    s3_files = [p for p in (dbt_project.root / "target" / "emulator" / "s3").rglob("*") if p.is_file()]
    assert s3_files == []
