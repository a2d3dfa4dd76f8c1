"""Batch job state and the control-plane operations (Create, Get, List, Stop): rules, no HTTP."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bedrock_ext.emulator import catalog, validation
from bedrock_ext.emulator.config import EmulatorConfig, Faults
from bedrock_ext.emulator.errors import EmulatorError
from bedrock_ext.emulator.exceptions import (
    ConflictException,
    ResourceNotFoundException,
    ServiceQuotaExceededException,
    ThrottlingException,
    ValidationException,
)

ACTIVE = frozenset({"Submitted", "Validating", "Scheduled", "InProgress", "Stopping"})
TERMINAL = frozenset({"Completed", "PartiallyCompleted", "Failed", "Stopped", "Expired"})
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(kw_only=True)
class Job:
    """One model invocation job as the service keeps it."""

    job_id: str
    job_arn: str
    request: dict[str, Any]
    faults: dict[str, Any]
    status: str = "Submitted"
    message: str | None = None
    submit_time: float = field(default_factory=lambda: int(time.time() * 1000) / 1000)  # as serialized
    last_modified_time: float = field(default_factory=time.time)
    end_time: float | None = None
    total: int | None = None
    processed: int | None = None
    success: int | None = None
    errors: int | None = None

    @property
    def model_id(self) -> str:
        return str(self.request["modelId"])

    @property
    def invocation_type(self) -> str:
        return str(self.request.get("modelInvocationType") or "InvokeModel")

    @property
    def fault(self) -> Faults:
        return Faults(**{**self.faults, "record_error_codes": tuple(self.faults["record_error_codes"])})

    def set_status(self, status: str, message: str | None = None) -> None:
        self.status, self.last_modified_time = status, time.time()
        if message is not None:
            self.message = message
        if status in TERMINAL:
            self.end_time = self.last_modified_time

    def to_api(self) -> dict[str, Any]:
        """The GetModelInvocationJob / summary shape; keys with no value are left out, zeros kept."""
        r = self.request
        hours = r.get("timeoutDurationInHours") or 24
        body = {
            "jobArn": self.job_arn,
            "jobName": r["jobName"],
            "modelId": r["modelId"],
            "clientRequestToken": r.get("clientRequestToken"),
            "roleArn": r["roleArn"],
            "status": self.status,
            "message": self.message,
            "submitTime": _iso(self.submit_time),
            "lastModifiedTime": _iso(self.last_modified_time),
            "endTime": _iso(self.end_time),
            "inputDataConfig": r["inputDataConfig"],
            "outputDataConfig": r["outputDataConfig"],
            "vpcConfig": r.get("vpcConfig"),
            "timeoutDurationInHours": hours,
            "jobExpirationTime": _iso(self.submit_time + hours * 3600),
            "modelInvocationType": self.invocation_type,
            "totalRecordCount": self.total,
            "processedRecordCount": self.processed,
            "successRecordCount": self.success,
            "errorRecordCount": self.errors,
        }
        return {k: v for k, v in body.items() if v is not None}


class BatchBackend:
    """The jobs of one emulator instance, persisted to ``state_dir`` when one is given."""

    def __init__(self, config: EmulatorConfig, state_dir: Path | None = None) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.jobs: dict[str, Job] = {}
        self._tokens: dict[str, str] = {}
        self._create_calls = 0
        self._state_file = state_dir / "bedrock_jobs.json" if state_dir else None
        self._load()

    # ---- operations -------------------------------------------------------------------------

    def create_model_invocation_job(self, body: Mapping[str, Any]) -> dict[str, str]:
        validation.create_request(body)
        known = catalog.lookup(str(body["modelId"]), self.config.application_inference_profiles)
        if known is None:
            raise ValidationException("The provided model identifier is invalid.")
        if not known.batch_offered:
            raise ValidationException(f"The model {body['modelId']} does not support batch inference.")
        if not known.batch_in_region and catalog.is_bare(str(body["modelId"])):
            # The runtime's message for such ids (AWS's batch wording was not found: see notes).
            raise ValidationException(
                f"Invocation of model ID {known.model_id} with on-demand throughput isn't supported. "
                "Retry your request with the ID or ARN of an inference profile that contains this model.")
        with self.lock:
            self._create_calls += 1
            if self._create_calls <= self.config.faults.create_throttle_count:
                raise ThrottlingException("Too many requests, please wait before trying again.")
            token = body.get("clientRequestToken")
            if token and token in self._tokens:
                return {"jobArn": self._same_request(token, body).job_arn}
            self._check_quota(str(body["modelId"]))
            job = self._new_job(dict(body))
            if token:
                self._tokens[token] = job.job_id
            self.save()
            return {"jobArn": job.job_arn}

    def get_model_invocation_job(self, identifier: str) -> dict[str, Any]:
        with self.lock:
            return self.find(identifier).to_api()

    def list_model_invocation_jobs(self, query: Mapping[str, str]) -> dict[str, Any]:
        max_results = _int_param(query, "maxResults", 1, 1000, default=1000)
        validation.one_of(query.get("statusEquals"), "statusEquals", validation.STATUSES)
        validation.one_of(query.get("sortBy"), "sortBy", ("CreationTime",))
        validation.one_of(query.get("sortOrder"), "sortOrder", ("Ascending", "Descending"))
        with self.lock:
            jobs = sorted(self._filtered(query), key=lambda j: (j.submit_time, j.job_id),
                          reverse=query.get("sortOrder", "Descending") == "Descending")
            summaries = [j.to_api() for j in jobs]
        start = _decode_token(query.get("nextToken"))
        page = summaries[start : start + max_results]
        result: dict[str, Any] = {"invocationJobSummaries": page}
        if start + max_results < len(summaries):
            result["nextToken"] = _encode_token(start + max_results)
        return result

    def stop_model_invocation_job(self, identifier: str) -> dict[str, Any]:
        with self.lock:
            job = self.find(identifier)
            if job.status not in ACTIVE or job.status == "Stopping":
                raise ValidationException(f"Job cannot be stopped. State was: {job.status}")
            job.set_status("Stopping")
            self.save()
        return {}

    def list_tags_for_resource(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """ListTagsForResource for a model invocation job ARN: the tags given at creation."""
        arn = body.get("resourceARN")
        if not isinstance(arn, str) or not 20 <= len(arn) <= 1011:
            raise validation.fail(arn, "resourceARN", "Member must have length between 20 and 1011")
        with self.lock:
            job = next((j for j in self.jobs.values() if j.job_arn == arn), None)
            if job is None:
                raise ResourceNotFoundException(f"The resource {arn} was not found.")
            return {"tags": list(job.request.get("tags") or [])}

    # ---- helpers ----------------------------------------------------------------------------

    def find(self, identifier: str) -> Job:
        job_id = validation.job_identifier(identifier)
        job = self.jobs.get(job_id)
        if job is None or (identifier.startswith("arn:") and identifier != job.job_arn):
            raise ResourceNotFoundException(f"Could not find the job {identifier}.")
        return job

    def active_jobs(self) -> Iterator[Job]:
        return (j for j in list(self.jobs.values()) if j.status in ACTIVE)

    def _filtered(self, query: Mapping[str, str]) -> Iterator[Job]:
        after = _time_param(query, "submitTimeAfter")
        before = _time_param(query, "submitTimeBefore")
        for job in self.jobs.values():
            if query.get("statusEquals") and job.status != query["statusEquals"]:
                continue
            if query.get("nameContains") and query["nameContains"] not in job.request["jobName"]:
                continue
            if after is not None and job.submit_time <= after:
                continue
            if before is not None and job.submit_time >= before:
                continue
            yield job

    def _same_request(self, token: str, body: Mapping[str, Any]) -> Job:
        job = self.jobs[self._tokens[token]]
        if _fingerprint(job.request) != _fingerprint(body):
            raise ConflictException(
                f"The request with client token {token} has different parameters than the "
                "original request with the same token."
            )
        return job

    def _check_quota(self, model_id: str) -> None:
        limit = self.config.quotas.max_concurrent_jobs
        running = sum(1 for j in self.active_jobs() if j.model_id == model_id)
        if running >= limit:
            raise ServiceQuotaExceededException(
                f"You have reached the maximum number of submitted and in-progress batch "
                f"inference jobs ({limit}) for model {model_id}. Wait for a job to finish or "
                "request a quota increase."
            )

    def _new_job(self, body: dict[str, Any]) -> Job:
        seed = f"{body['jobName']}:{time.time_ns()}:{len(self.jobs)}".encode()
        digest = int.from_bytes(hashlib.sha256(seed).digest()[:16], "big")
        job_id = "".join(_ID_ALPHABET[(digest >> (6 * i)) % 36] for i in range(12))
        cfg = self.config
        arn = f"arn:aws:bedrock:{cfg.region}:{cfg.account_id}:model-invocation-job/{job_id}"
        faults = dataclasses.asdict(cfg.faults)
        job = Job(job_id=job_id, job_arn=arn, request=body, faults=faults)
        self.jobs[job_id] = job
        return job

    # ---- persistence ------------------------------------------------------------------------

    def save(self) -> None:
        if self._state_file is None:
            return
        with self.lock:
            data = {"tokens": self._tokens, "jobs": [dataclasses.asdict(j) for j in self.jobs.values()]}
            tmp = self._state_file.with_suffix(".tmp")
            tmp.parent.mkdir(parents=True, exist_ok=True)  # the state dir may have been deleted under us
            tmp.write_text(json.dumps(data))
            os.replace(tmp, self._state_file)

    def _load(self) -> None:
        if self._state_file is None or not self._state_file.exists():
            return
        try:
            data = json.loads(self._state_file.read_text())
            tokens, jobs = dict(data["tokens"]), {j["job_id"]: Job(**j) for j in data["jobs"]}
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise EmulatorError(
                f"the emulator's job state file {self._state_file} is damaged ({type(err).__name__}: {err}). "
                f"Move it aside to start with no jobs (mv '{self._state_file}' '{self._state_file}.bad'); "
                "S3 objects under the state dir are kept.") from None
        self._tokens, self.jobs = tokens, jobs

    def record_invocation(self, body: bytes) -> None:
        """Append one paid InvokeModel call to ``runtime_invocations.jsonl`` in the state dir (an
        audit trail that outlives the process: tests count calls across a killed build)."""
        if self._state_file is None:
            return
        entry = json.dumps({"body_sha256": hashlib.sha256(body).hexdigest(), "at": time.time()}) + "\n"
        fd = os.open(self._state_file.with_name("runtime_invocations.jsonl"),
                     os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, entry.encode())
        finally:
            os.close(fd)


def _fingerprint(body: Mapping[str, Any]) -> str:
    return json.dumps({k: v for k, v in body.items() if k != "clientRequestToken"}, sort_keys=True)


def _int_param(query: Mapping[str, str], name: str, low: int, high: int, default: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise validation.fail(raw, name, "Member must be an integer") from None
    validation.int_range(value, name, low, high)
    return value


def _time_param(query: Mapping[str, str], name: str) -> float | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        return dt.datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise validation.fail(raw, name, "Member must be an ISO 8601 timestamp") from None


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(token.encode()))["offset"])
    except (ValueError, KeyError, TypeError):
        raise ValidationException("The provided pagination token is invalid.") from None
