"""Bedrock batch jobs: typed job state, job identity, and a thin client wrapper (the crash-safe
runner that drives them is ``aws.runner``).

Identity is deterministic: a job's name and clientRequestToken derive from the hash of its
records and its input location, so a re-run (after a crash, a kill, or in a later `dbt build`)
finds the job it created before (ListModelInvocationJobs by name) and re-attaches instead of
submitting a duplicate, and two projects of one account (dev and prod) that send the same
records from their own prefixes never share a job. Jobs named by an older version (the records'
hash alone) are re-attached when their input location is this spec's.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bedrock_ext.aws.client import ClientError, error_code, error_message
from bedrock_ext.errors import (
    BedrockRequestError,
    JobNotFoundError,
    QuotaExceededError,
    ThrottledError,
)


class JobStatus(enum.StrEnum):
    SUBMITTED = "Submitted"
    VALIDATING = "Validating"
    SCHEDULED = "Scheduled"
    IN_PROGRESS = "InProgress"
    STOPPING = "Stopping"
    COMPLETED = "Completed"
    PARTIALLY_COMPLETED = "PartiallyCompleted"
    FAILED = "Failed"
    STOPPED = "Stopped"
    EXPIRED = "Expired"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset({JobStatus.COMPLETED, JobStatus.PARTIALLY_COMPLETED, JobStatus.FAILED,
                       JobStatus.STOPPED, JobStatus.EXPIRED})


@dataclass(frozen=True, kw_only=True)
class BatchJob:
    """A GetModelInvocationJob response (or list summary), parsed once at the boundary."""

    job_arn: str
    job_name: str
    model_id: str
    status: JobStatus
    message: str | None
    submitted_at: dt.datetime
    ended_at: dt.datetime | None
    input_s3_uri: str
    output_s3_uri: str
    total_record_count: int | None
    processed_record_count: int | None
    success_record_count: int | None
    error_record_count: int | None
    kms_key_id: str | None = None
    timeout_hours: int | None = None
    uses_vpc: bool = False

    @property
    def job_id(self) -> str:
        return self.job_arn.rsplit("/", 1)[-1]

    @property
    def output_prefix_uri(self) -> str:
        """Where Bedrock writes this job's files: ``<output s3Uri>/<jobId>/``."""
        return self.output_s3_uri.rstrip("/") + f"/{self.job_id}/"

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> BatchJob:
        return cls(
            job_arn=data["jobArn"], job_name=data["jobName"], model_id=data["modelId"],
            status=JobStatus(data["status"]), message=data.get("message"),
            submitted_at=data["submitTime"], ended_at=data.get("endTime"),
            input_s3_uri=data["inputDataConfig"]["s3InputDataConfig"]["s3Uri"],
            output_s3_uri=data["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"],
            total_record_count=data.get("totalRecordCount"),
            processed_record_count=data.get("processedRecordCount"),
            success_record_count=data.get("successRecordCount"),
            error_record_count=data.get("errorRecordCount"),
            kms_key_id=data["outputDataConfig"]["s3OutputDataConfig"].get("s3EncryptionKeyId"),
            timeout_hours=data.get("timeoutDurationInHours"),
            uses_vpc=bool(data.get("vpcConfig")),
        )

    def progress(self) -> str:
        done, total = self.processed_record_count, self.total_record_count
        counts = f" {done or 0}/{total} records" if total else ""
        return f"{self.job_name} [{self.job_id}] {self.status.value}{counts}"


@dataclass(frozen=True, kw_only=True)
class JobSpec:
    """What to submit for one shard; name and token are derived from the shard's content hash."""

    job_key: str
    input_s3_uri: str
    output_s3_uri: str
    model_id: str
    role_arn: str
    name_prefix: str = "bedrock-ext"
    timeout_hours: int | None = None
    kms_key_id: str | None = None  # encrypts the job's output (s3EncryptionKeyId)
    tags: tuple[tuple[str, str], ...] = ()
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    generation: int = 1  # 2, 3, ... when the same input is resubmitted after a Failed job
    invocation_type: str = "InvokeModel"  # modelInvocationType: the records' body shape (or Converse)

    legacy: bool = False  # named as before 0.5 (the records' hash alone): a job an older version submitted

    @property
    def identity(self) -> str:
        """The hash a job's name and token derive from: its records' and its input location's."""
        if self.legacy:
            return self.job_key
        return hashlib.sha256(f"{self.job_key}\x1f{self.input_s3_uri}".encode()).hexdigest()[:32]

    @property
    def base_name(self) -> str:
        return f"{self.name_prefix}-{self.identity[:24]}"

    @property
    def legacy_base_name(self) -> str:
        return f"{self.name_prefix}-{self.job_key[:24]}"

    @property
    def job_name(self) -> str:
        return self.base_name if self.generation == 1 else f"{self.base_name}-g{self.generation}"

    @property
    def client_request_token(self) -> str:
        suffix = "" if self.generation == 1 else f"-g{self.generation}"
        return f"{self.name_prefix}-{self.identity}{suffix}"[:256]


def same_input(job: BatchJob, spec: JobSpec) -> bool:
    """A listed job is this spec's only when it reads the spec's input (another project of the
    account may have sent the same records from its own prefix)."""
    return not job.input_s3_uri or job.input_s3_uri.rstrip("/") == spec.input_s3_uri.rstrip("/")


def split_generation(job_name: str) -> tuple[str, int]:
    """(generation-1 name, generation) of a job name: ``name-g2`` -> (``name``, 2), ``name`` -> 1."""
    match = re.fullmatch(r"(.*)-g(\d+)", job_name)
    return (match.group(1), int(match.group(2))) if match else (job_name, 1)


class BedrockBatchClient:
    """One method per API call over an injected boto3 `bedrock` client; errors mapped to ours."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def create_job(self, spec: JobSpec) -> str:
        params: dict[str, Any] = {
            "jobName": spec.job_name, "roleArn": spec.role_arn, "modelId": spec.model_id,
            "clientRequestToken": spec.client_request_token,
            "inputDataConfig": {"s3InputDataConfig": {"s3Uri": spec.input_s3_uri, "s3InputFormat": "JSONL"}},
            "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": spec.output_s3_uri}},
            "modelInvocationType": spec.invocation_type,
        }
        if spec.kms_key_id:
            params["outputDataConfig"]["s3OutputDataConfig"]["s3EncryptionKeyId"] = spec.kms_key_id
        if spec.timeout_hours:
            params["timeoutDurationInHours"] = spec.timeout_hours
        if spec.tags:
            params["tags"] = [{"key": k, "value": v} for k, v in spec.tags]
        if spec.subnet_ids:
            params["vpcConfig"] = {"subnetIds": list(spec.subnet_ids),
                                   "securityGroupIds": list(spec.security_group_ids)}
        return str(self._call("create_model_invocation_job", **params)["jobArn"])

    def get_job(self, identifier: str) -> BatchJob:
        return BatchJob.from_api(self._call("get_model_invocation_job", jobIdentifier=identifier))

    def list_jobs(self, *, name_contains: str | None = None, status: JobStatus | None = None) -> list[BatchJob]:
        params: dict[str, Any] = {"sortBy": "CreationTime", "sortOrder": "Descending"}
        if name_contains:
            params["nameContains"] = name_contains
        if status:
            params["statusEquals"] = status.value
        try:
            pages = self._client.get_paginator("list_model_invocation_jobs").paginate(**params)
            return [BatchJob.from_api(s) for page in pages for s in page["invocationJobSummaries"]]
        except ClientError as err:
            raise _translate(err, "ListModelInvocationJobs") from None

    def stop_job(self, identifier: str) -> None:
        self._call("stop_model_invocation_job", jobIdentifier=identifier)

    def _call(self, method: str, **params: Any) -> Mapping[str, Any]:
        try:
            result: Mapping[str, Any] = getattr(self._client, method)(**params)
        except ClientError as err:
            raise _translate(err, method) from None
        return result


def _translate(err: ClientError, operation: str) -> BedrockRequestError:
    code, message = error_code(err), error_message(err)
    text = f"{getattr(err, 'operation_name', operation)} failed with {code}: {message}"
    if code == "ThrottlingException":
        return ThrottledError(f"{text} (botocore already retried; lower max_concurrent_jobs or retry later)")
    if code == "ServiceQuotaExceededException":
        return QuotaExceededError(text)
    if code == "ResourceNotFoundException":
        return JobNotFoundError(text)
    if code == "AccessDeniedException":
        return BedrockRequestError(f"{text}. Check the IAM permissions listed in the README.")
    return BedrockRequestError(text)
