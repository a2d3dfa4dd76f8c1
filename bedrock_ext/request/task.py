"""A task: what to ask the model about each row and the shape of its answer, declared in yml.

A task has a prompt (a system text and a user template over the input's columns, ``{column}``
placeholders) and an answer schema (a JSON Schema object). The schema is stated to the model in
the system prompt (and, where the model offers it in batch, sent as native structured output);
the SQL models validate every answer against it, and the typed result model takes its columns
from it. The supported JSON Schema subset is what those three can honour; anything else is
refused here, before anything is sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bedrock_ext.errors import ConfigError

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
PROPERTY_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# A declared task, or an evaluation candidate of one: <task>:<candidate> (request/evaluation.py).
TASK_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(:[A-Za-z_][A-Za-z0-9_]*)?$")
# Request settings a task (or a candidate) may set for itself; else the package-level var applies.
TASK_OVERRIDES = ("bedrock_model_id", "invocation_type", "max_tokens", "temperature", "top_p", "top_k")
SCALAR_TYPES = ("string", "integer", "number", "boolean")
_KEYWORDS: dict[str, set[str]] = {
    "string": {"type", "description", "enum", "maxLength", "minLength"},
    "integer": {"type", "description", "enum", "minimum", "maximum"},
    "number": {"type", "description", "minimum", "maximum"},
    "boolean": {"type", "description"},
    "array": {"type", "description", "items", "maxItems", "minItems"},
}
SCHEMA_OPEN, SCHEMA_CLOSE = "<answer_schema>", "</answer_schema>"


@dataclass(frozen=True, kw_only=True)
class Task:
    """One declared task (vars: bedrock_ext: tasks: <name>: ...)."""

    name: str
    system: str
    user: str  # the user message template, with {column} placeholders
    answer_schema: Mapping[str, Any]
    prompt_version: str = "v1"  # a human label; requests are keyed by the content, not by it

    def __post_init__(self) -> None:
        if not TASK_NAME.match(self.name):
            raise ConfigError(f"task name {self.name!r}: use letters, digits and _ (it names models and tags)")
        if not self.placeholders:
            raise ConfigError(f"task {self.name!r}: prompt.user must use at least one input column as "
                              "{column_name}; it has none")
        check_schema(self.name, self.answer_schema)

    @property
    def placeholders(self) -> tuple[str, ...]:
        """The input columns the user template uses, in order of first use."""
        return tuple(dict.fromkeys(PLACEHOLDER.findall(self.user)))

    @property
    def properties(self) -> Mapping[str, Mapping[str, Any]]:
        return self.answer_schema["properties"]

    def system_prompt(self) -> str:
        """The system text plus the answer schema, stated so a model can follow it."""
        schema = json.dumps(self.answer_schema, ensure_ascii=False, sort_keys=True)
        return (f"{self.system.rstrip()}\n\nAnswer with exactly one JSON object and nothing else. It must "
                f"validate against this JSON Schema (no other keys):\n{SCHEMA_OPEN}{schema}{SCHEMA_CLOSE}")

    def render(self, columns: Mapping[str, str | None]) -> str:
        """The user message for one row (Python twin of the SQL the package renders)."""
        return PLACEHOLDER.sub(lambda m: columns.get(m.group(1)) or "", self.user)

    def fingerprint_parts(self) -> tuple[str, ...]:
        """What identifies the task's requests besides the body: its name and version label."""
        return (self.name, self.prompt_version)

    @classmethod
    def from_spec(cls, name: str, spec: Mapping[str, Any]) -> Task:
        """From a task's yml mapping (prompt.system, prompt.user, answer_schema, prompt_version)."""
        if not isinstance(spec, Mapping):
            raise ConfigError(f"task {name!r} must be a mapping with prompt and answer_schema, got {spec!r}")
        prompt = spec.get("prompt")
        if not isinstance(prompt, Mapping) or not isinstance(prompt.get("user"), str):
            raise ConfigError(f"task {name!r}: prompt.user (the user message template) is missing")
        schema = spec.get("answer_schema")
        if isinstance(schema, str):
            try:
                schema = json.loads(schema)
            except ValueError:
                raise ConfigError(f"task {name!r}: answer_schema is not valid JSON") from None
        return cls(name=name, system=str(prompt.get("system") or ""), user=prompt["user"],
                   answer_schema=schema, prompt_version=str(spec.get("prompt_version") or "v1"))


def check_schema(task: str, schema: Any) -> None:
    """Refuse what the SQL validation and the typed columns could not honour."""
    where = f"task {task!r} answer_schema"
    if not isinstance(schema, Mapping) or schema.get("type") != "object":
        raise ConfigError(f"{where} must be a JSON Schema with type: object")
    properties = schema.get("properties")
    if not isinstance(properties, Mapping) or not properties:
        raise ConfigError(f"{where} needs properties (the answer's fields)")
    required = schema.get("required", [])
    if not isinstance(required, list):
        raise ConfigError(f"{where}: required must be a list of its properties, got {required!r}")
    unknown = [r for r in required if r not in properties]
    if unknown:
        raise ConfigError(f"{where}: required names {', '.join(map(repr, unknown))}, which is not one of its "
                          f"properties ({', '.join(properties)}): add the property or remove it from required")
    if schema.get("additionalProperties", False) is not False:
        raise ConfigError(f"{where}: additionalProperties must be false (unknown keys are invalid answers)")
    for name, prop in properties.items():
        _check_property(f"{where} property {name!r}", name, prop)


def _check_property(where: str, name: str, prop: Any) -> None:
    if not PROPERTY_NAME.match(str(name)):
        raise ConfigError(f"{where}: a property name must match [A-Za-z_][A-Za-z0-9_]* (it becomes a column)")
    kind = prop.get("type") if isinstance(prop, Mapping) else None
    if kind not in _KEYWORDS:
        raise ConfigError(f"{where}: type must be one of {sorted(_KEYWORDS)}, got {kind!r}")
    unknown = set(prop) - _KEYWORDS[kind]
    if unknown:
        raise ConfigError(f"{where}: {sorted(unknown)} not supported for type {kind} "
                          f"(supported: {sorted(_KEYWORDS[kind])})")
    if "enum" in prop and (not isinstance(prop["enum"], list) or not prop["enum"]):
        raise ConfigError(f"{where}: enum must be a non-empty list")
    _check_satisfiable(where, kind, prop)
    if kind == "array":
        items = prop.get("items")
        if not isinstance(items, Mapping) or items.get("type") not in SCALAR_TYPES:
            raise ConfigError(f"{where}: items must be a schema of one of {list(SCALAR_TYPES)}")
        _check_property(f"{where} items", name, items)


_LIMITS = {"maxLength": "minLength", "maxItems": "minItems", "maximum": "minimum"}


def _check_satisfiable(where: str, kind: str, prop: Mapping[str, Any]) -> None:
    """Refuse a property no answer can satisfy (every answer would be invalid, and paid for):
    negative or fractional lengths, bounds that contradict each other, enum values of another type
    or outside the property's own bounds."""
    for key in ("maxLength", "minLength", "maxItems", "minItems"):
        value = prop.get(key)
        if key in prop and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise ConfigError(f"{where}: {key} must be a whole number >= 0, got {value!r}")
    for key in ("minimum", "maximum"):
        value = prop.get(key)
        if key in prop and (not isinstance(value, int | float) or isinstance(value, bool)):
            raise ConfigError(f"{where}: {key} must be a number, got {value!r}")
    for high, low in _LIMITS.items():
        if high in prop and low in prop and prop[low] > prop[high]:
            raise ConfigError(f"{where}: {low} {prop[low]!r} is above {high} {prop[high]!r}: no answer can "
                              "satisfy both; fix the bounds")
    for value in prop.get("enum", []):
        problem = _enum_problem(kind, prop, value)
        if problem:
            raise ConfigError(f"{where}: enum value {value!r} {problem}: no answer could use it; fix the enum")


def _enum_problem(kind: str, prop: Mapping[str, Any], value: Any) -> str | None:
    if kind == "string":
        if not isinstance(value, str):
            return "is not a string"
        if len(value) > prop.get("maxLength", len(value)) or len(value) < prop.get("minLength", 0):
            return "is outside minLength/maxLength"
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        return f"is not an {kind}"
    if value > prop.get("maximum", value) or value < prop.get("minimum", value):
        return "is outside minimum/maximum"
    return None


def project_vars(project_dir: Path) -> dict[str, Any]:
    """The vars of a dbt project's dbt_project.yml (a user's project, or the package's own)."""
    path = Path(project_dir) / "dbt_project.yml"
    if not path.exists():
        raise ConfigError(f"{str(project_dir)!r} has no dbt_project.yml: give the dbt project that declares "
                          "the task (--project-dir)")
    import yaml

    return dict((yaml.safe_load(path.read_text()) or {}).get("vars") or {})


def declared_task(project_dir: Path, variables: Mapping[str, Any], name: str | None) -> tuple[str, Any]:
    """A task's name and spec among a project's ``variables`` (its global var bedrock_ext_tasks,
    the one definition of a task): ``name``, or the project's only task."""
    tasks = variables.get("bedrock_ext_tasks") or {}
    if not isinstance(tasks, dict) or not tasks:
        raise ConfigError(f"{project_dir}/dbt_project.yml declares no task (vars: bedrock_ext_tasks)")
    if name is None and len(tasks) != 1:
        raise ConfigError(f"{project_dir} declares {len(tasks)} tasks ({', '.join(sorted(tasks))}): name one "
                          "(--task)")
    chosen = name or next(iter(tasks))
    if chosen not in tasks:
        raise ConfigError(f"task {chosen!r} is not declared in {project_dir}/dbt_project.yml; it declares: "
                          f"{', '.join(sorted(tasks))}")
    return chosen, tasks[chosen]


def project_task(project_dir: Path, name: str | None = None) -> Task:
    """One task of a dbt project (``name``, or the project's only task), as dbt reads it."""
    return Task.from_spec(*declared_task(project_dir, project_vars(project_dir), name))
