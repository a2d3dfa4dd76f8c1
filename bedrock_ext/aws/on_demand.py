"""The on-demand path for batches below Bedrock's minimum: Converse (or InvokeModel) per record.

Same records (prompt and modelInput) as the batch path: a Converse body goes to the Converse API,
an InvokeModel body to InvokeModel; the answers are written to S3 in the
batch output line format (``recordId``, ``modelInput``, ``modelOutput`` or ``error``) under
``<prefix>/on-demand/<key>/part-00000.jsonl.out``, so the same staging and parsing read them.
Concurrency is bounded; throttling and 5xx are retried by botocore's standard retry mode, and
what still fails becomes an error line (retryable or not), never a crash or a lost record.

Crash safety: each answer (a paid call) is written to S3 the moment it arrives, at
``<prefix>/on-demand-answers/<request key>-a<attempt>.json``, before the next record is invoked.
A build killed midway and run again reuses those answers and invokes only the records that have
none, so no record is paid for twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bedrock_ext.aws.client import S3, ClientError, error_code, error_message
from bedrock_ext.request.records import PreparedRecord

log = logging.getLogger("bedrock_ext.aws.on_demand")
_STATUS = {"ThrottlingException": 429, "ValidationException": 400, "AccessDeniedException": 403,
           "ResourceNotFoundException": 404, "ModelTimeoutException": 408, "ModelErrorException": 424,
           "ServiceUnavailableException": 503, "InternalServerException": 500}


def answer_key(prefix: str, record: PreparedRecord) -> str:
    """Where one record's paid answer is kept (one object per request and attempt)."""
    return f"{prefix.strip('/')}/on-demand-answers/{record.request_key}-a{record.attempt}.json"


def _call(runtime: Any, model_id: str, model_input: dict[str, Any], invocation_type: str) -> dict[str, Any]:
    """The response body of one call, in the shape a batch job's modelOutput has."""
    if invocation_type == "Converse":
        response = runtime.converse(modelId=model_id, **model_input)
        return {k: v for k, v in response.items() if k != "ResponseMetadata"}
    response = runtime.invoke_model(modelId=model_id, body=json.dumps(model_input),
                                    contentType="application/json", accept="application/json")
    return dict(json.loads(response["body"].read()))


def _invoke(runtime: Any, model_id: str, record: PreparedRecord, invocation_type: str) -> tuple[str, bool]:
    """The output line of one call, and whether it succeeded (was paid for)."""
    model_input = json.loads(record.line)["modelInput"]
    line: dict[str, Any] = {"modelInput": model_input}
    try:
        line["modelOutput"] = _call(runtime, model_id, model_input, invocation_type)
    except ClientError as err:
        code = _STATUS.get(error_code(err), 500)
        line["error"] = {"errorCode": code, "errorMessage": error_message(err),
                         "retryable": code == 429 or code >= 500}
    line["recordId"] = record.record_id
    return json.dumps(line, ensure_ascii=False, separators=(",", ":")), "modelOutput" in line


def _answer(runtime: Any, model_id: str, record: PreparedRecord, s3: S3, bucket: str,
            prefix: str, invocation_type: str) -> tuple[str, bool]:
    """The record's output line, from S3 when an earlier build already paid for it, else invoked
    (and a successful answer written to S3 at once); and whether it was reused."""
    key = answer_key(prefix, record)
    kept = s3.get_bytes_or_none(bucket, key)
    if kept is not None:
        return kept.decode("utf-8", "surrogatepass"), True
    line, paid = _invoke(runtime, model_id, record, invocation_type)
    if paid:
        s3.put_bytes(bucket, key, line.encode("utf-8", "surrogatepass"))
    return line, False


def run_on_demand(records: Sequence[PreparedRecord], *, key: str, runtime: Any, s3: S3, bucket: str,
                  prefix: str, model_id: str, invocation_type: str = "Converse", concurrency: int = 4) -> str:
    """Invoke every record (reusing answers kept by an interrupted build), write the output file
    under the group's ``key``; returns its S3 URI."""
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        answers = list(pool.map(lambda r: _answer(runtime, model_id, r, s3, bucket, prefix, invocation_type),
                                records))
    lines = [line for line, _ in answers]
    reused = sum(was_kept for _, was_kept in answers)
    if reused:
        log.info("on-demand: %d answers reused from an earlier interrupted build (not invoked again)", reused)
    uri_key = f"{prefix.strip('/')}/on-demand/{key}/part-00000.jsonl.out"
    s3.put_bytes(bucket, uri_key, "".join(line + "\n" for line in lines).encode("utf-8", "surrogatepass"))
    errors = sum('"error":' in line and '"modelOutput"' not in line for line in lines)
    log.info("on-demand: %d records through %s (%d errors), written to s3://%s/%s",
             len(records), invocation_type, errors, bucket, uri_key)
    return f"s3://{bucket}/{uri_key}"
