"""Parse batch output lines (`*.jsonl.out`) and `manifest.json.out` in Python.

Any key order; a line carries `modelOutput` or `error`; unknown keys are ignored; a line that is
not JSON becomes a `MalformedLine` (kept, never dropped). Used by tests and the CLI; the dbt
staging models parse the same files with DuckDB.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class SuccessLine:
    record_id: str
    text: str
    input_tokens: int
    output_tokens: int
    stop_reason: str | None
    model: str | None


@dataclass(frozen=True, kw_only=True)
class ErrorLine:
    record_id: str
    error_code: int
    error_message: str
    is_retryable: bool


@dataclass(frozen=True, kw_only=True)
class MalformedLine:
    raw: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class Manifest:
    total_record_count: int
    processed_record_count: int
    success_record_count: int
    error_record_count: int
    input_token_count: int | None
    output_token_count: int | None


OutputLine = SuccessLine | ErrorLine | MalformedLine


def parse_output_line(raw: str) -> OutputLine:
    try:
        obj = json.loads(raw)
    except ValueError as err:
        return MalformedLine(raw=raw, reason=f"not valid JSON: {err}")
    if not isinstance(obj, dict) or not isinstance(obj.get("recordId"), str):
        return MalformedLine(raw=raw, reason="no recordId")
    if isinstance(obj.get("error"), dict):
        e = obj["error"]
        code = int(e.get("errorCode", 0))
        retryable = e.get("retryable")
        if retryable is None:  # older lines carry only errorCode: throttling and 5xx are transient
            retryable = code == 429 or code >= 500
        return ErrorLine(record_id=obj["recordId"], error_code=code,
                         error_message=str(e.get("errorMessage", "")), is_retryable=bool(retryable))
    if isinstance(obj.get("modelOutput"), dict):
        return _success(obj["recordId"], obj["modelOutput"])
    return MalformedLine(raw=raw, reason="neither modelOutput nor error")


def _success(record_id: str, out: dict[str, Any]) -> SuccessLine:
    if "content" in out:  # Anthropic Claude Messages
        text = "".join(b.get("text", "") for b in out.get("content") or [] if isinstance(b, dict))
        usage = out.get("usage") or {}
        return SuccessLine(record_id=record_id, text=text, input_tokens=int(usage.get("input_tokens", 0)),
                           output_tokens=int(usage.get("output_tokens", 0)),
                           stop_reason=out.get("stop_reason"), model=out.get("model"))
    if "output" in out:  # Amazon Nova
        content = ((out.get("output") or {}).get("message") or {}).get("content") or []
        usage = out.get("usage") or {}
        return SuccessLine(record_id=record_id, text="".join(c.get("text", "") for c in content),
                           input_tokens=int(usage.get("inputTokens", 0)),
                           output_tokens=int(usage.get("outputTokens", 0)),
                           stop_reason=out.get("stopReason"), model=None)
    return SuccessLine(record_id=record_id, text=str(out.get("generation", "")),  # Meta Llama
                       input_tokens=int(out.get("prompt_token_count", 0)),
                       output_tokens=int(out.get("generation_token_count", 0)),
                       stop_reason=out.get("stop_reason"), model=None)


def parse_manifest(raw: str | bytes) -> Manifest:
    obj = json.loads(raw)

    def optional(key: str) -> int | None:
        return int(obj[key]) if obj.get(key) is not None else None

    return Manifest(
        total_record_count=int(obj.get("totalRecordCount", 0)),
        processed_record_count=int(obj.get("processedRecordCount", 0)),
        success_record_count=int(obj.get("successRecordCount", 0)),
        error_record_count=int(obj.get("errorRecordCount", 0)),
        input_token_count=optional("inputTokenCount"),
        output_token_count=optional("outputTokenCount"),
    )
