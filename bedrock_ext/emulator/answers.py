"""The emulator's answers: JSON that fits the schema the request carries, derived from its text.

A real model learns the answer's shape from the request; so does this stand-in, which shares no
code with the client. It finds a JSON Schema wherever the request carries it: Converse's
``outputConfig.textFormat``, between ``<answer_schema>`` tags, or inline in the system or user
text (the first JSON object with ``properties``). Values derive from the user messages only,
never from the system prompt or instructions:

- the call-center summary schema (summary, intent, sentiment, resolution, action_items): the
  keyword heuristic of ``summarizer``, restricted to the schema's keys;
- any other object schema, field by field: an enum value chosen by its words (and the property's
  name and description) found in the text, else spread by a hash of the text; integers and
  numbers within their bounds, from a number the text gives for the field, else from urgency cue
  words, else spread; booleans true when the text names the field's words (a negation before them
  in the same clause makes it false); strings are the text itself, cut to their limits;
- no schema: the heuristic's full summary (requests built before tasks were declared).

``invalid(...)`` turns a valid answer into a schema-invalid one of several kinds, for the
``invalid_answer_rate`` fault; ``degrade(...)`` changes a share of its fields (still valid), for a
model's ``model_fidelity``. None of this is a language model: local answers measure the
pipeline, not a model.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Mapping
from typing import Any

from bedrock_ext.emulator import summarizer

_SCHEMA = re.compile(r"<answer_schema>(.*?)</answer_schema>", re.S)
_SUMMARY_KEYS = {"summary", "intent", "sentiment", "resolution", "action_items"}
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
_TOKEN = re.compile(r"[a-z0-9]+")
# Words that say nothing about a field: a boolean "needs_refund" is about "refund".
_FILLER = {"needs", "need", "has", "have", "is", "are", "was", "should", "wants", "want", "mentions", "mention",
           "the", "and", "for", "with", "any", "requires", "require", "asks", "ask", "about", "other", "none",
           "unknown", "value", "level", "score", "flag", "type", "kind"}
_NEGATION = {"no", "not", "never", "without", "don't", "doesn't", "didn't", "isn't"}
_HIGH = ("urgent", "asap", "immediately", "emergency", "critical", "right now", "outage", "down for", "!!")
_LOW = ("no rush", "whenever", "not urgent", "low priority", "just wondering", "minor")


def schema_in(prompt: str, output_config: Any = None) -> dict[str, Any] | None:
    """The answer schema the request states: outputConfig's, else the tagged one, else the first
    inline JSON object with properties in the text."""
    if isinstance(output_config, Mapping):
        text_format = output_config.get("textFormat")
        structure = text_format.get("structure") if isinstance(text_format, Mapping) else None
        json_schema = structure.get("jsonSchema") if isinstance(structure, Mapping) else None
        found = _load(json_schema.get("schema")) if isinstance(json_schema, Mapping) else None
        if found:
            return found
    m = _SCHEMA.search(prompt)
    return (_load(m.group(1)) if m else None) or _inline(prompt)


def _load(text: Any) -> dict[str, Any] | None:
    try:
        value = json.loads(text) if isinstance(text, str) else text
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) and isinstance(value.get("properties"), dict) else None


def _inline(prompt: str) -> dict[str, Any] | None:
    """The first JSON object with properties inside the text: tried from the few opening braces
    before each ``"properties"`` key (bounded work, whatever the text's size or its braces)."""
    decoder = json.JSONDecoder()
    for key in itertools.islice(re.finditer(r'"properties"', prompt), 8):
        window = prompt[max(0, key.start() - 4000):key.start()]
        starts = [key.start() - len(window) + i for i, ch in enumerate(window) if ch == "{"]
        for start in starts[:-9:-1] if len(starts) > 8 else starts[::-1]:  # the nearest 8, nearest first
            try:
                value, _ = decoder.raw_decode(prompt, start)
            except (ValueError, RecursionError):
                continue
            found = _load(value)
            if found:
                return found
    return None


def answer(user: str, schema: Mapping[str, Any] | None) -> str:
    """The answer text for the user messages ``user``: one compact JSON object."""
    if schema is None:
        return json.dumps(summarizer.summarize(summarizer.transcript_part(user)), ensure_ascii=False)
    properties: Mapping[str, Any] = schema["properties"]
    if _SUMMARY_KEYS <= set(properties):
        full = summarizer.summarize(summarizer.transcript_part(user))
        generic = {k: _value(k, p, user) for k, p in properties.items() if k not in full}
        return json.dumps({**{k: full[k] for k in properties if k in full}, **generic}, ensure_ascii=False)
    return json.dumps({k: _value(k, p, user) for k, p in properties.items()}, ensure_ascii=False)


def _hash(*parts: str) -> int:
    return int.from_bytes(hashlib.blake2b("\x1f".join(parts).encode("utf-8", "surrogatepass"),
                                          digest_size=8).digest(), "big")


STEM = 4  # words compare by their first letters: "bill", "billed" and "billing" are one word here


def _stems(text: str) -> list[str]:
    return [w[:STEM] for w in _TOKEN.findall(text.lower())]


def _words(name: str) -> list[str]:
    return [w for w in _TOKEN.findall(name.lower().replace("_", " ")) if len(w) > 2 and w not in _FILLER]


def _value(name: str, prop: Mapping[str, Any], text: str) -> Any:
    kind = prop.get("type")
    if "enum" in prop:
        return _enum(name, list(prop["enum"]), text)
    if kind == "boolean":
        return _boolean(name, prop, text)
    if kind in ("integer", "number"):
        return _number(name, prop, text)
    if kind == "array":
        item = prop.get("items", {})
        n = min(int(prop.get("maxItems", 2)), 2)
        if "enum" in item:  # the values the text names, at most n
            named = [o for o in item["enum"] if _score(str(o), _stems(text)) > 0][:n]
            return named or [_enum(name, list(item["enum"]), text)]
        return [_value(f"{name}[{i}]", item, text[i * 80:] or text) for i in range(n)]
    return _string(prop, text)


def _score(option: str, stems: list[str]) -> int:
    """How often the option's words (their stems) occur in the text."""
    wanted = {w[:STEM] for w in _words(option)}
    return sum(1 for s in stems if s in wanted)


def _enum(name: str, options: list[Any], text: str) -> Any:
    """The option whose words the text uses most; with none (or a tie), a spread chosen by a hash
    of the text among the tied options, so no option wins by position."""
    stems = _stems(text)
    scores = [_score(str(o), stems) for o in options]
    best = max(scores)
    tied = [o for o, sc in zip(options, scores, strict=True) if sc == best]
    return tied[_hash(name, text) % len(tied)]


def _boolean(name: str, prop: Mapping[str, Any], text: str) -> bool:
    words = {w[:STEM] for w in _words(name)} or {w[:STEM] for w in _words(str(prop.get("description", "")))}
    if not words:
        return bool(_hash(name, text) % 2)
    for clause in re.split(r"[.,;:!?\n]+", text.lower().replace("n't", " not")):
        tokens = _TOKEN.findall(clause)
        for i, token in enumerate(tokens):
            if token[:STEM] in words:  # true unless a negation comes before it in its clause
                return not any(t in _NEGATION for t in tokens[:i])
    return False


def _number(name: str, prop: Mapping[str, Any], text: str) -> int | float:
    low, high = prop.get("minimum", 0), prop.get("maximum", 100)
    lowered = text.lower()
    for word in _words(name):
        m = re.search(rf"{re.escape(word[:STEM])}\w*\D{{0,12}}?(\d+(?:\.\d+)?)", lowered)
        if m and low <= float(m.group(1)) <= high:
            value = float(m.group(1))
            return int(value) if prop.get("type") == "integer" else value
    span = int(high) - int(low)
    if any(cue in lowered for cue in _HIGH):
        value = int(high) - _hash(name, text) % max(1, span // 4 + 1)
    elif any(cue in lowered for cue in _LOW):
        value = int(low) + _hash(name, text) % max(1, span // 4 + 1)
    else:
        value = int(low) + _hash(name, text) % (span + 1)
    return value if prop.get("type") == "integer" else float(value)


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


def degrade(valid_answer: str, schema: Mapping[str, Any] | None, fidelity: float, *salt: str) -> str:
    """The answer with each field kept with probability ``fidelity`` (a roll per field from a hash
    of ``salt`` and the field's name, so the same request always gives the same answer) and
    otherwise changed within the schema: another enum value, a flipped boolean, a number moved by
    one within its bounds, a string cut to its first sentence. Arrays and objects are kept."""
    properties: Mapping[str, Any] = (schema or {}).get("properties", {})
    try:
        value = json.loads(valid_answer)
    except ValueError:
        return valid_answer
    if fidelity >= 1.0 or not isinstance(value, dict):
        return valid_answer
    for name, prop in properties.items():
        roll = _hash(*salt, name) / 2**64
        if name in value and roll >= fidelity:
            value[name] = _changed(value[name], prop, _hash(*salt, name, "choice"))
    return json.dumps(value, ensure_ascii=False)


def _changed(current: Any, prop: Mapping[str, Any], pick: int) -> Any:
    options = [o for o in prop.get("enum") or [] if o != current]
    if options:
        return options[pick % len(options)]
    if isinstance(current, bool):
        return not current
    if isinstance(current, int | float):
        low, high = prop.get("minimum", float("-inf")), prop.get("maximum", float("inf"))
        step = 1 if pick % 2 else -1
        return current + step if low <= current + step <= high else current - step
    if isinstance(current, str) and current:
        first = re.split(r"(?<=[.!?])\s", current, maxsplit=1)[0]
        return first if first != current else current[: max(1, len(current) // 2)]
    return current
