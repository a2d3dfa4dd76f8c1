"""Model families as data: what each family of Bedrock models takes and answers, in one place.

A family says which model ids belong to it, the inference parameters it accepts (and their
ranges), and whether bedrock_ext builds its native InvokeModel body (``records`` does, by family
name). A response shape says where an output line carries the answer's text, the tokens, the stop
reason and the request's parameters; the output staging reads every shape, in this order, through
the package's ``response_shapes`` macro, its SQL twin (tests/unit/test_families.py holds them
equal). A model that speaks only Converse needs a catalog row and nothing here; one with a native
body needs a family (and its body in ``records``) and, for a new response shape, a shape here and
in the macro. The local emulator keeps its own copy: it stands in for AWS and shares no code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

FamilyName = Literal["anthropic", "nova", "llama", "other"]


@dataclass(frozen=True, kw_only=True)
class Family:
    """One family: its id prefixes (of the bare model id) and the parameters it accepts."""

    name: FamilyName
    id_prefixes: tuple[str, ...] = ()
    temperature: tuple[float, float] = (0.0, 1.0)
    top_p: tuple[float, float] = (0.0, 1.0)
    top_k: tuple[int, int] | None = None  # None: the family has no top_k
    native_body: bool = True  # bedrock_ext builds its InvokeModel body


FAMILIES: tuple[Family, ...] = (
    Family(name="anthropic", id_prefixes=("anthropic.",), top_k=(0, 500)),
    Family(name="nova", id_prefixes=("amazon.nova",), top_k=(0, 128)),
    Family(name="llama", id_prefixes=("meta.llama",)),
    Family(name="other", native_body=False),  # any other catalog model: Converse only
)
BY_NAME: Mapping[str, Family] = {f.name: f for f in FAMILIES}


def family_of(base_model_id: str) -> Family:
    """The family of a bare model id (``catalog.base_model_id`` of any id form)."""
    return next((f for f in FAMILIES if base_model_id.startswith(f.id_prefixes or ("\0",))), BY_NAME["other"])


# The fields an output line carries, read by the output staging (each field's first non-null path
# across the shapes below counts).
FIELDS = ("answer_text", "stop_reason", "input_tokens", "output_tokens", "max_tokens", "temperature", "top_p",
          "top_k")


@dataclass(frozen=True, kw_only=True)
class ResponseShape:
    """Where one body shape (an InvokeModel family's, or Converse's) carries each field."""

    name: str
    paths: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


RESPONSE_SHAPES: tuple[ResponseShape, ...] = (
    ResponseShape(name="anthropic_messages", paths={
        "answer_text": ("$.modelOutput.content[0].text",), "stop_reason": ("$.modelOutput.stop_reason",),
        "input_tokens": ("$.modelOutput.usage.input_tokens",),
        "output_tokens": ("$.modelOutput.usage.output_tokens",),
        "max_tokens": ("$.modelInput.max_tokens",), "temperature": ("$.modelInput.temperature",),
        "top_p": ("$.modelInput.top_p",), "top_k": ("$.modelInput.top_k",)}),
    ResponseShape(name="converse", paths={  # Converse of every family, and Nova's native messages-v1
        "answer_text": ("$.modelOutput.output.message.content[0].text",),
        "stop_reason": ("$.modelOutput.stopReason",),
        "input_tokens": ("$.modelOutput.usage.inputTokens",),
        "output_tokens": ("$.modelOutput.usage.outputTokens",),
        "max_tokens": ("$.modelInput.inferenceConfig.maxTokens",),
        "temperature": ("$.modelInput.inferenceConfig.temperature",),
        "top_p": ("$.modelInput.inferenceConfig.topP",),
        "top_k": ("$.modelInput.inferenceConfig.topK", "$.modelInput.additionalModelRequestFields.top_k",
                  "$.modelInput.additionalModelRequestFields.inferenceConfig.topK")}),
    ResponseShape(name="llama", paths={
        "answer_text": ("$.modelOutput.generation",), "stop_reason": ("$.modelOutput.stop_reason",),
        "input_tokens": ("$.modelOutput.prompt_token_count",),
        "output_tokens": ("$.modelOutput.generation_token_count",), "max_tokens": ("$.modelInput.max_gen_len",),
        "temperature": ("$.modelInput.temperature",), "top_p": ("$.modelInput.top_p",)}),
    ResponseShape(name="titan_text", paths={  # AWS's own example line of batch results
        "answer_text": ("$.modelOutput.results[0].outputText",),
        "stop_reason": ("$.modelOutput.results[0].completionReason",),
        "input_tokens": ("$.modelOutput.inputTextTokenCount",),
        "output_tokens": ("$.modelOutput.results[0].tokenCount",),
        "max_tokens": ("$.modelInput.textGenerationConfig.maxTokenCount",),
        "temperature": ("$.modelInput.textGenerationConfig.temperature",),
        "top_p": ("$.modelInput.textGenerationConfig.topP",)}),
)


def paths_of(field_name: str) -> list[str]:
    """Every path of a field across the shapes, in order, each once (the staging's coalesce)."""
    out: list[str] = []
    for shape in RESPONSE_SHAPES:
        out += [p for p in shape.paths.get(field_name, ()) if p not in out]
    return out
