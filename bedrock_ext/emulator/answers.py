"""The emulator's answers: JSON that fits the schema the request carries, derived from its text.

A real model learns the answer's shape from the request (the prompt, or Converse's
``outputConfig.textFormat``); so does this stand-in, which shares no code with the client. It
looks for a JSON Schema between ``<answer_schema>`` tags in the prompt or in ``outputConfig``:

- the call-center summary schema (summary, intent, sentiment, resolution, action_items): the
  keyword heuristic of ``summarizer``, restricted to the schema's keys;
- any other object schema: a deterministic answer derived from the text (an enum value that the
  text mentions, else one chosen by a hash of the text; numbers within their bounds; strings cut
  from the text within their length limits);
- no schema: the heuristic's full summary (requests built before tasks were declared).

``invalid(...)`` turns a valid answer into a schema-invalid one of several kinds, for the
``invalid_answer_rate`` fault. None of this is a language model.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from bedrock_ext.emulator import summarizer

_SCHEMA = re.compile(r"<answer_schema>(.*?)</answer_schema>", re.S)
_SUMMARY_KEYS = {"summary", "intent", "sentiment", "resolution", "action_items"}
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")


def schema_in(prompt: str, output_config: Any = None) -> dict[str, Any] | None:
    """The answer schema the request states: outputConfig's, else the prompt's tagged one."""
    if isinstance(output_config, Mapping):
        text = output_config.get("textFormat", {}).get("structure", {}).get("jsonSchema", {}).get("schema")
        found = _load(text)
        if found:
            return found
    m = _SCHEMA.search(prompt)
    return _load(m.group(1)) if m else None


def _load(text: Any) -> dict[str, Any] | None:
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return value if isinstance(value, dict) and isinstance(value.get("properties"), dict) else None


def answer(prompt: str, schema: Mapping[str, Any] | None) -> str:
    """The answer text for a prompt: one compact JSON object."""
    if schema is None:
        return json.dumps(summarizer.summarize(summarizer.transcript_part(prompt)), ensure_ascii=False)
    properties: Mapping[str, Any] = schema["properties"]
    text = _user_part(prompt)
    if _SUMMARY_KEYS <= set(properties):
        full = summarizer.summarize(summarizer.transcript_part(text))
        generic = {k: _value(k, p, text) for k, p in properties.items() if k not in full}
        return json.dumps({**{k: full[k] for k in properties if k in full}, **generic}, ensure_ascii=False)
    return json.dumps({k: _value(k, p, text) for k, p in properties.items()}, ensure_ascii=False)


def _user_part(prompt: str) -> str:
    """The prompt without the system part's schema (the row's text is what answers derive from)."""
    return _SCHEMA.sub("", prompt)


def _hash(*parts: str) -> int:
    return int.from_bytes(hashlib.blake2b("\x1f".join(parts).encode("utf-8", "surrogatepass"),
                                          digest_size=8).digest(), "big")


def _value(name: str, prop: Mapping[str, Any], text: str) -> Any:
    kind = prop.get("type")
    if "enum" in prop:
        options = list(prop["enum"])
        lowered = text.lower()
        mentioned = [o for o in options if isinstance(o, str) and o.lower().replace("_", " ") in lowered]
        return mentioned[0] if mentioned else options[_hash(name, text) % len(options)]
    if kind == "boolean":
        words = [w for w in re.split(r"[_\W]+", name.lower()) if len(w) > 3]
        return any(w in text.lower() for w in words) if words else bool(_hash(name, text) % 2)
    if kind in ("integer", "number"):
        low, high = int(prop.get("minimum", 0)), int(prop.get("maximum", 100))
        return low + _hash(name, text) % (high - low + 1)
    if kind == "array":
        item = prop.get("items", {})
        n = min(int(prop.get("maxItems", 2)), 2)
        return [_value(f"{name}[{i}]", item, text) for i in range(n)]
    return _string(prop, text)


def _string(prop: Mapping[str, Any], text: str) -> str:
    words = _WORD.findall(text)
    sentence = " ".join(words[:40]) or "No text was given."
    limit = int(prop.get("maxLength", 400))
    floor = int(prop.get("minLength", 0))
    out = sentence[:limit].rstrip()
    return out + "." * max(0, floor - len(out))


INVALID_KINDS = ("extra_key", "wrong_enum", "wrong_type", "too_long", "prose", "not_json")


def invalid(valid_answer: str, schema: Mapping[str, Any] | None, roll: float) -> str:
    """A schema-invalid variant of a valid answer, the kind chosen by ``roll`` in [0, 1)."""
    kind = INVALID_KINDS[int(roll * len(INVALID_KINDS)) % len(INVALID_KINDS)]
    value = json.loads(valid_answer)
    properties: Mapping[str, Any] = (schema or {}).get("properties", {})
    enums = [k for k, p in properties.items() if "enum" in p]
    strings = [k for k, p in properties.items() if p.get("type") == "string" and "enum" not in p]
    if kind == "extra_key":
        value["confidence"] = "high"
    elif kind == "wrong_enum" and enums:
        value[enums[0]] = "something_else"
    elif kind == "wrong_type" and properties:
        value[next(iter(properties))] = {"unexpected": "object"}
    elif kind == "too_long" and strings:
        limit = int(properties[strings[0]].get("maxLength", 400))
        value[strings[0]] = "x" * (limit + 1)
    elif kind == "prose":  # valid JSON wrapped in prose: accepted by the parser (first { to last })
        return "Here is the JSON you asked for: " + json.dumps(value, ensure_ascii=False) + " Hope it helps."
    else:
        return json.dumps(value, ensure_ascii=False)[:-7]  # cut: not JSON
    return json.dumps(value, ensure_ascii=False)
