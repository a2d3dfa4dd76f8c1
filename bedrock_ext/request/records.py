"""Bedrock batch records from rows: request keys, recordIds, modelInput bodies.

Pure functions. A record's identity is its request key, a hash of (row id, the rendered user
message, request fingerprint), where the fingerprint hashes everything else that shapes the
request: the task's name and version label, the model id, and the modelInput body around the user
message (the system prompt with the answer schema, the invocation type's body shape, max_tokens,
temperature, top_p, top_k). The same request is never paid twice; change any of them (or the
prompt template, which changes the message) and the row is requested again.

Bodies are Converse request bodies by default (one shape for every model family, the
``modelInvocationType: Converse`` of CreateModelInvocationJob); ``invocation_type="InvokeModel"``
builds each family's native InvokeModel body instead.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any, Literal

from bedrock_ext.errors import ConfigError
from bedrock_ext.request.catalog import EndpointScope, ModelEntry, base_model_id, endpoint_scope, packaged
from bedrock_ext.request.families import BY_NAME, FamilyName, family_of
from bedrock_ext.request.task import Task

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
RECORD_ID_LENGTH = 11
RECORD_ID_HEX_DIGITS = 16  # 64 bits of the request key
CHARS_PER_TOKEN = 3.5  # conservative for English chat text: over-estimates rather than under
TRUNCATION_MARK = "\n[... text truncated to fit the model's context window ...]\n"


InvocationType = Literal["Converse", "InvokeModel"]


@dataclass(frozen=True, kw_only=True)
class RecordSettings:
    """How to build records: model, task (prompt and answer schema), inference parameters,
    body shape, overlong-text policy."""

    model_id: str
    task: Task  # the declared task (bedrock_ext.request.task.project_task reads one from a project)
    max_tokens: int = 512
    temperature: float | None = 0.0  # None: not sent (the model's default)
    top_p: float | None = None
    top_k: int | None = None
    invocation_type: InvocationType = "Converse"
    overlong_policy: Literal["truncate", "reject"] = "truncate"
    # The schema also in Converse's outputConfig.textFormat: only where the model's catalog row
    # says it supports native structured output (config.record_settings sets it from the catalog).
    native_structured_output: bool = False
    # The model's catalog row for its limits (context window); None: the packaged catalog's row.
    # Not part of the request fingerprint: a new price or limit re-requests nothing.
    model: ModelEntry | None = None
    # The model id's endpoint scope (it chooses the price); None: read from the id itself (an
    # application profile ARN needs the catalog's mapping: config.record_settings sets it).
    scope: EndpointScope | None = None

    def __post_init__(self) -> None:
        if self.max_tokens < 1:
            raise ConfigError(f"max_tokens must be >= 1, got {self.max_tokens}")
        if self.overlong_policy not in ("truncate", "reject"):
            raise ConfigError(f"overlong_policy {self.overlong_policy!r}: use truncate or reject")
        if self.invocation_type not in ("Converse", "InvokeModel"):
            raise ConfigError(f"invocation_type {self.invocation_type!r}: use Converse or InvokeModel")
        if self.native_structured_output and self.invocation_type != "Converse":
            raise ConfigError("native structured output goes in Converse's outputConfig: it needs "
                              f"invocation_type Converse, not {self.invocation_type!r}")
        if self.invocation_type == "InvokeModel" and not BY_NAME[model_family(self.model_id)].native_body:
            raise ConfigError("invocation_type InvokeModel: bedrock_ext builds the native InvokeModel body of "
                              "Anthropic Claude, Amazon Nova and Meta Llama models only, not of "
                              f"{self.model_id!r}; use invocation_type: Converse (the default), which every "
                              "model takes")

    @property
    def entry(self) -> ModelEntry:
        """The model's catalog row (the build's catalog, else the packaged one)."""
        return self.model if self.model is not None else packaged().entry(self.model_id)

    @property
    def endpoint_scope(self) -> EndpointScope:
        return self.scope or endpoint_scope(self.model_id)

    @property
    def prompt_version(self) -> str:
        return self.task.prompt_version

    @property
    def system_prompt(self) -> str:
        return self.task.system_prompt()



@dataclass(frozen=True, kw_only=True)
class PreparedRecord:
    """One record ready for a batch input file."""

    request_key: str
    record_id: str
    transcript_id: str
    line: str  # the JSONL line, without the newline
    estimated_input_tokens: int
    is_truncated: bool
    attempt: int = 1  # exports of this request so far, this one included (retries: 2, 3, ...)


def model_family(model_id: str) -> FamilyName:
    """The request-body family of a Bedrock model id, inference-profile id or ARN ("other": a
    model whose native body bedrock_ext does not build; it takes Converse). bedrock_ext.request.families."""
    return family_of(base_model_id(model_id)).name


def request_fingerprint(settings: RecordSettings) -> str:
    """sha256 of everything but the row that shapes a request: the task's name and label, the
    model id and the literal modelInput body around the user message (the system prompt with the
    answer schema, the body shape, every inference parameter). dbt computes it once per task and
    build through the SQL function ``bedrock_ext_request_fingerprint``."""
    payload = "\x1f".join([*settings.task.fingerprint_parts(), settings.model_id, *line_template(settings)])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def request_key(transcript_id: str, text: str, fingerprint: str) -> str:
    """sha256 of the three parts joined by U+001F; the SQL model computes the same with
    ``sha256(concat_ws(chr(31), input_id, input_text, request_fingerprint))``."""
    payload = "\x1f".join([transcript_id, text, fingerprint])
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()


def record_id(key: str) -> str:
    """11 characters [A-Za-z0-9] from the first 64 bits of the request key (2^64 < 62^11), least
    significant digit first; ``bedrock_ext.request.record_sql`` computes the same in SQL."""
    n = int(key[:RECORD_ID_HEX_DIGITS], 16)
    chars = []
    for _ in range(RECORD_ID_LENGTH):
        n, r = divmod(n, 62)
        chars.append(_BASE62[r])
    return "".join(chars)


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)



def model_input(settings: RecordSettings, user: str) -> dict[str, Any]:
    """The modelInput body for one user message: Converse, or the family's InvokeModel body."""
    if settings.invocation_type == "Converse":
        return _converse_body(settings, user)
    return _invoke_model_body(settings, user)


def _converse_body(settings: RecordSettings, user: str) -> dict[str, Any]:
    config = _set({"maxTokens": settings.max_tokens, "temperature": settings.temperature,
                   "topP": settings.top_p})
    body: dict[str, Any] = {"system": [{"text": settings.system_prompt}],
                            "messages": [{"role": "user", "content": [{"text": user}]}],
                            "inferenceConfig": config}
    if settings.top_k is not None:  # not a Converse field: the family's own request field
        k = settings.top_k
        claude = model_family(settings.model_id) == "anthropic"
        body["additionalModelRequestFields"] = {"top_k": k} if claude else {"inferenceConfig": {"topK": k}}
    if settings.native_structured_output:
        schema = json.dumps(settings.task.answer_schema, sort_keys=True)
        body["outputConfig"] = {"textFormat": {"type": "json_schema", "structure": {
            "jsonSchema": {"schema": schema, "name": settings.task.name}}}}
    return body


def _set(params: dict[str, Any]) -> dict[str, Any]:
    """The parameters that are set: an unset one (None) is not sent, so the model's default applies."""
    return {k: v for k, v in params.items() if v is not None}


def _invoke_model_body(settings: RecordSettings, user: str) -> dict[str, Any]:
    system = settings.system_prompt
    family = model_family(settings.model_id)
    if family == "anthropic":
        return {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": settings.max_tokens,
            "system": system,
            "messages": [{"role": "user", "content": [{"type": "text", "text": user}]}],
            **_set({"temperature": settings.temperature, "top_p": settings.top_p, "top_k": settings.top_k}),
        }
    if family == "nova":
        config = _set({"maxTokens": settings.max_tokens, "temperature": settings.temperature,
                       "topP": settings.top_p, "topK": settings.top_k})
        return {"schemaVersion": "messages-v1", "system": [{"text": system}],
                "messages": [{"role": "user", "content": [{"text": user}]}], "inferenceConfig": config}
    return {
        "prompt": f"<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n{system}<|eot_id|>"
                  f"<|start_header_id|>user<|end_header_id|>\n{user}<|eot_id|>"
                  "<|start_header_id|>assistant<|end_header_id|>\n",
        **_set({"max_gen_len": settings.max_tokens, "temperature": settings.temperature,
                "top_p": settings.top_p}),
    }


@dataclass(frozen=True, kw_only=True)
class Truncation:
    """Texts longer than ``allowed_chars`` keep their first ``head`` and last ``tail`` characters."""

    allowed_chars: int
    head: int
    tail: int


def truncation(settings: RecordSettings) -> Truncation:
    """How much text fits the context with the prompt and the answer (max_tokens)."""
    budget = settings.entry.context_window - settings.max_tokens
    overhead = estimate_tokens(settings.system_prompt) + 64
    allowed = int((budget - overhead) * CHARS_PER_TOKEN)
    keep = max(0, allowed - len(TRUNCATION_MARK))
    return Truncation(allowed_chars=allowed, head=keep * 3 // 4, tail=keep - keep * 3 // 4)


RECORD_ID_SLOT, TEXT_SLOT = "@@bedrock_ext:record_id@@", "@@bedrock_ext:text@@"


def line_template(settings: RecordSettings) -> tuple[str, str, str]:
    """A record's JSONL line in three literal parts: line = p0 + recordId + p1 + text + p2, where
    text is the rendered user message JSON-escaped (without quotes). The SQL export builds lines
    from them."""
    line = json.dumps({"recordId": RECORD_ID_SLOT, "modelInput": model_input(settings, TEXT_SLOT)},
                      ensure_ascii=False, separators=(",", ":"))
    if line.count(RECORD_ID_SLOT) != 1 or line.count(TEXT_SLOT) != 1:
        raise ConfigError("the system prompt must not contain the product's own slot markers")
    p0, rest = line.split(RECORD_ID_SLOT)
    p1, p2 = rest.split(TEXT_SLOT)
    return p0, p1, p2
