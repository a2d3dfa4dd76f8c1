"""Request validation and response bodies, in the shapes Bedrock returns.

InvokeModel bodies of Anthropic Claude Messages, Amazon Nova (messages-v1) and Meta Llama, and
Converse bodies (any family; batch jobs with ``modelInvocationType: Converse`` and the runtime
Converse API). The answer text comes from ``answers`` (JSON fitting the schema the request
carries; the local heuristic, not an LLM); the envelope (ids, stop reasons, usage) is shaped like
the real response body, with Claude's `model` naming the local heuristic plainly.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bedrock_ext.emulator import answers, catalog, summarizer
from bedrock_ext.emulator.config import Faults

ANTHROPIC_VERSION = "bedrock-2023-05-31"


class ModelInputError(Exception):
    """A record's modelInput is invalid for its model: becomes a 400 error (line or response)."""

    def __init__(self, message: str, code: int = 400) -> None:
        super().__init__(message)
        self.message, self.code = message, code


@dataclass(frozen=True)
class Family:
    name: str
    context_tokens: int
    respond: Callable[[str, Mapping[str, Any], Quirks], dict[str, Any]]


def _malformed(detail: str) -> ModelInputError:
    return ModelInputError(f"Malformed input request: {detail}, please reformat your input and try again.")


def _text_of(content: Any, where: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [b.get("text") for b in content if isinstance(b, dict)]
        if all(isinstance(p, str) for p in parts):
            return "\n".join(parts)  # type: ignore[arg-type]
    raise _malformed(f"#/{where}: expected a string or a list of text blocks")


def _check_keys(body: Mapping[str, Any], allowed: set[str], required: tuple[str, ...]) -> None:
    for key in required:
        if key not in body:
            raise _malformed(f"#: required key [{key}] not found")
    for key in body:
        if key not in allowed:
            raise _malformed(f"#: extraneous key [{key}] is not permitted")


def _check_range(body: Mapping[str, Any], key: str, low: float, high: float) -> None:
    value = body.get(key)
    if value is not None and (not isinstance(value, int | float) or not low <= value <= high):
        raise _malformed(f"#/{key}: {value!r} is not in range [{low}, {high}]")


def _max_tokens(value: Any, key: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise _malformed(f"#/{key}: expected a positive integer, got {value!r}")
    return value


@dataclass(frozen=True, kw_only=True)
class Quirks:
    """How the local model departs from the heuristic's answer for one request: ``corrupt`` (the
    invalid-answer fault's roll) makes it schema-invalid; ``fidelity`` below 1 (the model's
    ``model_fidelity``) changes that share of its fields, salted by ``model``."""

    corrupt: float | None = None
    fidelity: float = 1.0
    model: str = ""


NO_QUIRKS = Quirks()


def quirks(model_id: str, faults: Faults, corrupt: float | None) -> Quirks:
    """The quirks of one request to ``model_id`` (any id form) under ``faults``."""
    known = catalog.lookup(model_id)
    model = known.model_id if known is not None else model_id
    return Quirks(corrupt=corrupt, fidelity=faults.fidelity_of(model), model=model)


def _finish(prompt: str, user: str, limit: int, context: int, quirks: Quirks,
            output_config: Any = None) -> tuple[str, int, int, bool]:
    """Answer text, input tokens, output tokens, and whether max tokens cut the answer. The whole
    ``prompt`` (system and user text) is counted and searched for the answer schema; the answer
    derives from the ``user`` messages only, never from instructions; ``quirks`` then apply."""
    tokens_in = summarizer.count_tokens(prompt)
    if tokens_in > context:
        raise ModelInputError("Input is too long for requested model.")
    schema = answers.schema_in(prompt, output_config)
    text = answers.degrade(answers.answer(user, schema), schema, quirks.fidelity, quirks.model, user)
    if quirks.corrupt is not None:
        text = answers.invalid(text, schema, quirks.corrupt)
    cut = summarizer.count_tokens(text) > limit
    if cut:
        text = text[: limit * 4]
    return text, tokens_in, summarizer.count_tokens(text), cut


_LLAMA_USER = re.compile(r"<\|start_header_id\|>user<\|end_header_id\|>\n?(.*?)<\|eot_id\|>", re.S)


def _prompt_and_user(body: Mapping[str, Any], messages: list[Any]) -> tuple[str, str]:
    """The whole prompt (system, then every message) and the user messages' text alone."""
    system = [_text_of(body["system"], "system")] if "system" in body else []
    turns = [(m.get("role"), _text_of(m.get("content"), "messages/content"))
             for m in messages if isinstance(m, dict)]
    return "\n".join(system + [t for _, t in turns]), "\n".join(t for role, t in turns if role == "user")


def _message_id(prompt: str) -> str:
    return "msg_bdrk_01" + hashlib.sha256(prompt.encode("utf-8", "surrogatepass")).hexdigest()[:22]


def claude(model_id: str, body: Mapping[str, Any], quirks: Quirks = NO_QUIRKS) -> dict[str, Any]:
    allowed = {"anthropic_version", "max_tokens", "messages", "system", "temperature", "top_p",
               "top_k", "stop_sequences", "anthropic_beta", "metadata"}
    _check_keys(body, allowed, ("anthropic_version", "max_tokens", "messages"))
    if body["anthropic_version"] != ANTHROPIC_VERSION:
        raise _malformed(f"#/anthropic_version: expected {ANTHROPIC_VERSION!r}")
    limit = _max_tokens(body["max_tokens"], "max_tokens")
    _check_range(body, "temperature", 0, 1)
    _check_range(body, "top_p", 0, 1)
    _check_range(body, "top_k", 0, 500)
    messages = body["messages"]
    if not isinstance(messages, list) or not messages or not isinstance(messages[0], dict):
        raise _malformed("#/messages: expected a non-empty list of messages")
    if messages[0].get("role") != "user":
        raise ModelInputError("messages: first message must use the \"user\" role")
    prompt, user = _prompt_and_user(body, messages)
    text, tokens_in, tokens_out, cut = _finish(prompt, user, limit, context_of(model_id, CLAUDE), quirks)
    return {
        "id": _message_id(prompt),
        "type": "message",
        "role": "assistant",
        "model": f"{summarizer.MODEL_LABEL} as {_anthropic_name(model_id)}",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "max_tokens" if cut else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": tokens_in, "output_tokens": tokens_out},
    }


def _anthropic_name(model_id: str) -> str:
    tail = model_id.rsplit("/", 1)[-1].split("anthropic.", 1)[-1]
    return tail.rsplit("-v", 1)[0]


def nova(model_id: str, body: Mapping[str, Any], quirks: Quirks = NO_QUIRKS) -> dict[str, Any]:
    allowed = {"schemaVersion", "system", "messages", "inferenceConfig", "toolConfig"}
    _check_keys(body, allowed, ("messages",))
    config = body.get("inferenceConfig") or {}
    if not isinstance(config, dict):
        raise _malformed("#/inferenceConfig: expected an object")
    limit = _max_tokens(config.get("maxTokens", 5000), "inferenceConfig/maxTokens")
    _check_range(config, "temperature", 0, 1)
    _check_range(config, "topP", 0, 1)
    messages = body["messages"]
    if not isinstance(messages, list) or not messages:
        raise _malformed("#/messages: expected a non-empty list of messages")
    prompt, user = _prompt_and_user(body, messages)
    text, tokens_in, tokens_out, cut = _finish(prompt, user, limit, context_of(model_id, NOVA), quirks)
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "max_tokens" if cut else "end_turn",
        "usage": {"inputTokens": tokens_in, "outputTokens": tokens_out,
                  "totalTokens": tokens_in + tokens_out},
    }


def llama(model_id: str, body: Mapping[str, Any], quirks: Quirks = NO_QUIRKS) -> dict[str, Any]:
    _check_keys(body, {"prompt", "max_gen_len", "temperature", "top_p", "images"}, ("prompt",))
    if not isinstance(body["prompt"], str):
        raise _malformed("#/prompt: expected type: String")
    limit = _max_tokens(body.get("max_gen_len", 512), "max_gen_len")
    _check_range(body, "temperature", 0, 1)
    _check_range(body, "top_p", 0, 1)
    user = _LLAMA_USER.findall(body["prompt"])
    text, tokens_in, tokens_out, cut = _finish(body["prompt"], "\n".join(user) if user else body["prompt"],
                                               limit, context_of(model_id, LLAMA), quirks)
    return {
        "generation": text,
        "prompt_token_count": tokens_in,
        "generation_token_count": tokens_out,
        "stop_reason": "length" if cut else "stop",
    }


def _no_native_body(model_id: str, body: Mapping[str, Any], quirks: Quirks) -> dict[str, Any]:
    raise ModelInputError(f"The local emulator answers Converse records for {model_id}; it does not emulate "
                          "this model's native InvokeModel body.")


CLAUDE = Family("anthropic", 200_000, claude)
NOVA = Family("nova", 300_000, nova)
LLAMA = Family("llama", 128_000, llama)
OTHER = Family("other", 128_000, _no_native_body)
_PREFIXES = (("anthropic.", CLAUDE), ("amazon.nova", NOVA), ("meta.llama", LLAMA))


def context_of(model_id: str, family: Family) -> int:
    """The model's context window (the catalog's), else its family's."""
    known = catalog.lookup(model_id)
    return known.context_window if known else family.context_tokens


def family_for(model_id: str) -> Family | None:
    """The family of a model in the catalog (any id form: bare, inference-profile id, ARN);
    None for a model the catalog does not know."""
    known = catalog.lookup(model_id)
    if known is None:
        return None
    return next((family for prefix, family in _PREFIXES if known.model_id.startswith(prefix)), OTHER)


def converse(model_id: str, family: Family, body: Mapping[str, Any],
             quirks: Quirks = NO_QUIRKS) -> dict[str, Any]:
    """A Converse request body (batch ``modelInvocationType: Converse`` or the runtime API) and its
    response body. Tool use is refused as AWS documents for Converse batch records (toolConfig: 400)."""
    if "toolConfig" in body:
        raise ModelInputError("toolConfig is not supported for batch inference jobs with the Converse "
                              "invocation type. Use the InvokeModel invocation type for tool use.")
    allowed = {"messages", "system", "inferenceConfig", "additionalModelRequestFields",
               "additionalModelResponseFieldPaths", "outputConfig", "guardrailConfig", "requestMetadata",
               "performanceConfig", "promptVariables"}
    _check_keys(body, allowed, ("messages",))
    config = body.get("inferenceConfig") or {}
    if not isinstance(config, dict) or set(config) - {"maxTokens", "temperature", "topP", "stopSequences"}:
        raise ModelInputError("The model returned the following errors: inferenceConfig: extraneous key "
                              f"{sorted(set(config) - {'maxTokens', 'temperature', 'topP', 'stopSequences'})}"
                              if isinstance(config, dict) else "inferenceConfig: expected an object")
    limit = _max_tokens(config.get("maxTokens", 4096), "inferenceConfig/maxTokens")
    _check_range(config, "temperature", 0, 1)
    _check_range(config, "topP", 0, 1)
    messages = body["messages"]
    if not isinstance(messages, list) or not messages or not isinstance(messages[0], dict):
        raise ModelInputError("A conversation must start with a user message. Try again with a conversation "
                              "that starts with a user message.")
    if messages[0].get("role") != "user":
        raise ModelInputError("A conversation must start with a user message. Try again with a conversation "
                              "that starts with a user message.")
    prompt, user = _prompt_and_user(body, messages)
    text, tokens_in, tokens_out, cut = _finish(prompt, user, limit, context_of(model_id, family), quirks,
                                               body.get("outputConfig"))
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "max_tokens" if cut else "end_turn",
        "usage": {"inputTokens": tokens_in, "outputTokens": tokens_out, "totalTokens": tokens_in + tokens_out},
        "metrics": {"latencyMs": 20 + len(prompt) // 200},
    }


def invoke(model_id: str, body: Any, invocation_type: str = "InvokeModel",
           quirks: Quirks = NO_QUIRKS) -> dict[str, Any]:
    """Run one request body against the local model; raises ModelInputError for bad input."""
    family = family_for(model_id)
    if family is None:
        raise ModelInputError("The provided model identifier is invalid.")
    if not isinstance(body, dict):
        raise _malformed("#: expected type: JSONObject")
    _check_output_limit(model_id, body)
    _check_refused_pairs(model_id, body, invocation_type)
    if invocation_type == "Converse":
        return converse(model_id, family, body, quirks)
    return family.respond(model_id, body, quirks)


def _check_output_limit(model_id: str, body: Mapping[str, Any]) -> None:
    """maxTokens (or the family's own name for it) within the model's maximum output (the catalog's)."""
    config = body.get("inferenceConfig")
    requested = next((v for v in ((config or {}).get("maxTokens") if isinstance(config, dict) else None,
                                  body.get("max_tokens"), body.get("max_gen_len")) if isinstance(v, int)), None)
    known = catalog.lookup(model_id)
    if known is not None and requested is not None and requested > known.max_output_tokens:
        limit = known.max_output_tokens
        raise ModelInputError(f"The maximum tokens you requested exceeds the model limit of {limit}. "
                              f"Try again with a maximum tokens value that is lower than {limit}.")


# A parameter's name in each body shape: Converse's inferenceConfig, Claude's and Llama's top level.
_PARAM_PATHS = {"Converse": {"temperature": ("inferenceConfig", "temperature"),
                             "top_p": ("inferenceConfig", "topP"),
                             "top_k": ("additionalModelRequestFields", "top_k")},
                "InvokeModel": {"temperature": ("temperature",), "top_p": ("top_p",), "top_k": ("top_k",)}}


def _check_refused_pairs(model_id: str, body: Mapping[str, Any], invocation_type: str) -> None:
    """A pair of parameters the model refuses together (Claude Sonnet 4.5 and later: temperature
    with top_p) fails the record with the model's own message, as Bedrock passes it on."""
    known = catalog.lookup(model_id)
    paths = _PARAM_PATHS["Converse" if invocation_type == "Converse" else "InvokeModel"]
    for a, b in known.refused_pairs if known else ():
        if _present(body, paths.get(a, ())) and _present(body, paths.get(b, ())):
            raise ModelInputError(f"The model returned the following errors: `{a}` and `{b}` cannot both be "
                                  "specified for this model. Please use only one.")


def _present(body: Any, path: tuple[str, ...]) -> bool:
    for key in path:
        if not isinstance(body, Mapping) or body.get(key) is None:
            return False
        body = body[key]
    return bool(path)


def usage_of(model_output: Mapping[str, Any]) -> tuple[int, int]:
    """(input tokens, output tokens) of a response body of any family."""
    if "usage" in model_output and "input_tokens" in model_output["usage"]:
        u = model_output["usage"]
        return u["input_tokens"], u["output_tokens"]
    if "usage" in model_output:
        u = model_output["usage"]
        return u["inputTokens"], u["outputTokens"]
    return model_output["prompt_token_count"], model_output["generation_token_count"]
