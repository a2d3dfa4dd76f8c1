"""The Python reference of the SQL export (``bedrock_ext.request.record_sql``): one record built
row by row from the same request functions. Tests check the export against it; the product builds
records in SQL only."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bedrock_ext.request.records import (
    TRUNCATION_MARK,
    PreparedRecord,
    RecordSettings,
    estimate_tokens,
    model_input,
    record_id,
    request_fingerprint,
    request_key,
    truncation,
)


@dataclass(frozen=True, kw_only=True)
class SkippedRecord:
    """A transcript that will not be sent, with the reason (accounted for, never dropped)."""

    request_key: str
    transcript_id: str
    reason: str


def fit(settings: RecordSettings, text: str) -> tuple[str, bool]:
    """The text cut (head and tail kept) so prompt + answer fit the context; and whether it was cut."""
    t = truncation(settings)
    if len(text) <= t.allowed_chars:
        return text, False
    return text[:t.head] + TRUNCATION_MARK + text[len(text) - t.tail:], True


def render_row(settings: RecordSettings, text: str | None) -> str | None:
    """The user message for a row whose every prompt column reads ``text`` (the CLI's input and
    the tests'; dbt renders the task's template over the row's own columns), None when the text
    is blank. ``record_sql.table_requests_sql`` builds the same in SQL."""
    if text is None or not text.strip():
        return None
    return settings.task.render({name: text for name in settings.task.placeholders})


def prepare_row(row_id: str, text: str | None, settings: RecordSettings) -> PreparedRecord | SkippedRecord:
    """``prepare`` of the row's user message (``render_row``)."""
    return prepare(row_id, render_row(settings, text), settings)


def prepare(transcript_id: str, text: str | None, settings: RecordSettings) -> PreparedRecord | SkippedRecord:
    """A record for one user message (``text``), or the reason it is skipped (blank, or too long
    to send)."""
    key = request_key(transcript_id, text or "", request_fingerprint(settings))
    if text is None or not text.strip():
        return SkippedRecord(request_key=key, transcript_id=transcript_id, reason="blank_text")
    fitted, cut = fit(settings, text)
    if cut and settings.overlong_policy == "reject":
        return SkippedRecord(request_key=key, transcript_id=transcript_id,
                             reason=f"over_context: about {estimate_tokens(text)} tokens")
    rid = record_id(key)
    body = model_input(settings, fitted)
    line = json.dumps({"recordId": rid, "modelInput": body}, ensure_ascii=False, separators=(",", ":"))
    return PreparedRecord(request_key=key, record_id=rid, transcript_id=transcript_id, line=line,
                          estimated_input_tokens=estimate_tokens(settings.system_prompt)
                          + estimate_tokens(fitted),
                          is_truncated=cut)
