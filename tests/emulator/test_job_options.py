"""Job options of the Bedrock console (output KMS key, tags, VPC, timeout): sent exactly as set by
the client, validated by the emulator as the service model says, returned where AWS returns them."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from bedrock_ext.aws.jobs import BedrockBatchClient, JobSpec
from tests.emulator.conftest import TEST_MODEL, TEST_ROLE, Aws

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_every_option_reaches_the_job_and_comes_back(aws: Aws) -> None:
    uri = aws.put_records("in/a.jsonl", 3)
    spec = JobSpec(
        job_key="k" * 32,
        input_s3_uri=uri,
        output_s3_uri=f"s3://{aws.bucket}/out/",
        model_id=TEST_MODEL,
        role_arn=TEST_ROLE,
        kms_key_id=KEY_ARN,
        tags=(("team", "analytics"), ("cost-center", "42")),
        subnet_ids=("subnet-0abc1234", "subnet-0def5678"),
        security_group_ids=("sg-0abc1234",),
        timeout_hours=72,
    )
    client = BedrockBatchClient(aws.bedrock)
    job = client.get_job(client.create_job(spec))
    assert (job.kms_key_id, job.uses_vpc, job.timeout_hours) == (KEY_ARN, True, 72)
    raw = aws.bedrock.get_model_invocation_job(jobIdentifier=job.job_arn)
    assert raw["vpcConfig"] == {
        "subnetIds": ["subnet-0abc1234", "subnet-0def5678"],
        "securityGroupIds": ["sg-0abc1234"],
    }
    assert raw["outputDataConfig"]["s3OutputDataConfig"]["s3EncryptionKeyId"] == KEY_ARN
    tags = aws.bedrock.list_tags_for_resource(resourceARN=job.job_arn)["tags"]
    assert tags == [{"key": "team", "value": "analytics"}, {"key": "cost-center", "value": "42"}]


def test_a_job_without_options_sends_none(aws: Aws) -> None:
    uri = aws.put_records("in/a.jsonl", 3)
    spec = JobSpec(
        job_key="n" * 32,
        input_s3_uri=uri,
        output_s3_uri=f"s3://{aws.bucket}/out/",
        model_id=TEST_MODEL,
        role_arn=TEST_ROLE,
    )
    client = BedrockBatchClient(aws.bedrock)
    arn = client.create_job(spec)
    raw = aws.bedrock.get_model_invocation_job(jobIdentifier=arn)
    assert "vpcConfig" not in raw and "s3EncryptionKeyId" not in raw["outputDataConfig"]["s3OutputDataConfig"]
    assert aws.bedrock.list_tags_for_resource(resourceARN=arn)["tags"] == []


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        (
            {
                "outputDataConfig": {
                    "s3OutputDataConfig": {"s3Uri": "s3://bkt/out/", "s3EncryptionKeyId": "my key"}
                }
            },
            "s3EncryptionKeyId",
        ),
        ({"tags": [{"key": "bad<key>", "value": "v"}]}, "tags.1.member.key"),
        ({"tags": [{"key": "k", "value": "x" * 257}]}, "tags.1.member.value"),
        ({"tags": [{"key": f"k{i}", "value": "v"} for i in range(201)]}, "tags"),
        ({"tags": [{"key": "k"}]}, "value"),
        ({"tags": [{"key": "aws:createdBy", "value": "me"}]}, "tags.1.member.key"),
        ({"tags": [{"key": "ok", "value": "v"}, {"key": "AWS:cost", "value": "v"}]}, "tags.2.member.key"),
        ({"modelId": "amazon.nova-premier-v1:0"}, "inference profile"),
        (
            {"vpcConfig": {"subnetIds": [f"subnet-{i}" for i in range(17)], "securityGroupIds": ["sg-1"]}},
            "vpcConfig.subnetIds",
        ),
        ({"vpcConfig": {"subnetIds": ["subnet-1"], "securityGroupIds": []}}, "vpcConfig.securityGroupIds"),
        (
            {"vpcConfig": {"subnetIds": ["subnet_1!"], "securityGroupIds": ["sg-1"]}},
            "vpcConfig.subnetIds.member",
        ),
        ({"vpcConfig": {"subnetIds": ["subnet-1"]}}, "securityGroupIds"),
        ({"timeoutDurationInHours": 200}, "timeoutDurationInHours"),
        ({"timeoutDurationInHours": 23}, "timeoutDurationInHours"),
    ],
)
def test_option_validation_names_the_member(aws: Aws, overrides: dict[str, Any], path: str) -> None:
    uri = aws.put_records("in/a.jsonl", 3)
    with pytest.raises(ClientError) as exc:
        aws.create(uri, client=aws.unchecked(), **overrides)
    error = exc.value.response["Error"]
    assert error["Code"] == "ValidationException" and path in error["Message"], error


def test_tags_of_an_unknown_job_are_not_found(aws: Aws) -> None:
    with pytest.raises(ClientError) as exc:
        aws.bedrock.list_tags_for_resource(
            resourceARN="arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abcdefabcdef"
        )
    assert exc.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_profile_only_model_runs_through_its_profile(aws: Aws) -> None:
    """Nova Premier has no single-Region batch (AWS's batch page): the bare id is refused above,
    its us. profile is accepted."""
    uri = aws.put_records("in/a.jsonl", 3)
    arn = aws.create(uri, modelId="us.amazon.nova-premier-v1:0")
    assert aws.bedrock.get_model_invocation_job(jobIdentifier=arn)["modelId"] == "us.amazon.nova-premier-v1:0"
