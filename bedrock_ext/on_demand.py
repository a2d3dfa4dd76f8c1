"""The on-demand path for batches below Bedrock's minimum: InvokeModel per record.

Same records (prompt and modelInput) as the batch path; the answers are written to S3 in the
batch output line format (``recordId``, ``modelInput``, ``modelOutput`` or ``error``) under
``<prefix>/on-demand/<key>/part-00000.jsonl.out``, so the same staging and parsing read them.
Concurrency is bounded; throttling and 5xx are retried by botocore's standard retry mode, and
what still fails becomes an error line (retryable or not), never a crash or a lost record.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bedrock_ext.aws import S3, ClientError, error_code, error_message
from bedrock_ext.records import PreparedRecord

log = logging.getLogger("bedrock_ext.on_demand")
_STATUS = {"ThrottlingException": 429, "ValidationException": 400, "AccessDeniedException": 403,
           "ResourceNotFoundException": 404, "ModelTimeoutException": 408, "ModelErrorException": 424,
           "ServiceUnavailableException": 503, "InternalServerException": 500}


def _invoke(runtime: Any, model_id: str, record: PreparedRecord) -> str:
    model_input = json.loads(record.line)["modelInput"]
    line: dict[str, Any] = {"modelInput": model_input}
    try:
        response = runtime.invoke_model(modelId=model_id, body=json.dumps(model_input),
                                        contentType="application/json", accept="application/json")
        line["modelOutput"] = json.loads(response["body"].read())
    except ClientError as err:
        code = _STATUS.get(error_code(err), 500)
        line["error"] = {"errorCode": code, "errorMessage": error_message(err),
                         "retryable": code == 429 or code >= 500}
    line["recordId"] = record.record_id
    return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


def run_on_demand(records: Sequence[PreparedRecord], *, key: str, runtime: Any, s3: S3, bucket: str,
                  prefix: str, model_id: str, concurrency: int = 4) -> str:
    """Invoke every record, write the output file under the group's ``key``; returns its S3 URI."""
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        lines = list(pool.map(lambda r: _invoke(runtime, model_id, r), records))
    uri_key = f"{prefix.strip('/')}/on-demand/{key}/part-00000.jsonl.out"
    s3.put_bytes(bucket, uri_key, "".join(line + "\n" for line in lines).encode("utf-8", "surrogatepass"))
    errors = sum('"error":' in line and '"modelOutput"' not in line for line in lines)
    log.info("on-demand: %d records through InvokeModel (%d errors), written to s3://%s/%s",
             len(records), errors, bucket, uri_key)
    return f"s3://{bucket}/{uri_key}"
