"""The settings of a build: the batch models' ``bedrock_ext`` config (dbt vars rendered as text),
parsed back to their types and validated before anything is uploaded or invoked."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any

from bedrock_ext.errors import ConfigError
from bedrock_ext.pipeline.estimate import BUDGET_BASES
from bedrock_ext.pipeline.sharding import Quotas
from bedrock_ext.request import validate
from bedrock_ext.request.catalog import Catalog, packaged
from bedrock_ext.request.evaluation import (
    Evaluation,
    evaluation_of,
    judge_tasks,
    request_tasks,
    split_task_name,
)
from bedrock_ext.request.records import RecordSettings
from bedrock_ext.request.task import TASK_OVERRIDES, Task


@dataclass(frozen=True, kw_only=True)
class BatchConfig:
    """The dbt vars that drive a build (set as model config in dbt_project.yml)."""

    bedrock_ext_tasks: dict[str, Any]
    bedrock_model_id: str
    invocation_type: str
    max_tokens: int
    temperature: float | None
    top_p: float | None
    top_k: int | None
    s3_bucket: str
    s3_prefix: str
    role_arn: str
    wait: bool
    poll_interval_s: float
    job_timeout_s: float | None
    max_records_per_file: int
    max_records_per_job: int
    max_bytes_per_file: int
    max_bytes_per_job: int
    min_records_per_job: int
    max_concurrent_jobs: int
    max_attempts: int
    retry_failed: bool
    retry_max_wait_hours: float
    bedrock_budget_usd: float | None
    budget_basis: str
    small_batch_policy: str
    overlong_policy: str
    output_kms_key_id: str | None
    job_tags: dict[str, str]
    vpc_subnet_ids: tuple[str, ...]
    vpc_security_group_ids: tuple[str, ...]
    job_timeout_hours: int | None
    application_inference_profiles: dict[str, str]
    dbt_project_name: str
    # Not a setting: the build's model catalog (dim_bedrock_models); None: the packaged one.
    catalog: Catalog | None = field(default=None, compare=False, metadata={"setting": False})

    @classmethod
    def from_dbt(cls, settings: Any, catalog: Catalog | None = None) -> BatchConfig:
        """From the model's ``bedrock_ext`` config dict (set in models/batch/_batch__models.yml)
        and the build's model catalog."""
        if not isinstance(settings, dict):
            raise ConfigError("model config 'bedrock_ext' is missing: the batch models read their "
                              "settings from it (models/batch/_batch__models.yml)")
        values: dict[str, Any] = {"catalog": catalog}
        for f in settings_fields():
            raw = settings.get(f.name)
            value = _json_setting(f.name, raw) if f.name in _JSON else _coerce(f.name, raw, str(f.type))
            if value is None and f.name not in _OPTIONAL:
                raise ConfigError(f"dbt var/config {f.name!r} is not set; see README 'Configuration'")
            values[f.name] = value
        config = cls(**values)
        config.validate()
        return config

    def validate(self) -> None:
        """Refuse, before anything is uploaded or invoked, every value AWS would refuse later."""
        validate.one_of("small_batch_policy", self.small_batch_policy, ("defer", "fail", "on_demand"))
        validate.one_of("overlong_policy", self.overlong_policy, ("truncate", "reject"))
        validate.one_of("budget_basis", self.budget_basis, BUDGET_BASES)
        if not self.tasks:
            raise ConfigError("no task is declared: set the var bedrock_ext_tasks: {<name>: {input, id_column, "
                              "text_column, prompt: {system, user}, answer_schema}} (README 'Declare a task')")
        for r in [*self.task_records.values(), *self.judge_records.values()]:
            validate.model_for_batch(r.entry, r.model_id, r.invocation_type, r.endpoint_scope)
            validate.inference_params(r.entry, r.model_id, max_tokens=r.max_tokens, temperature=r.temperature,
                                      top_p=r.top_p, top_k=r.top_k)
        validate.s3_location(self.s3_bucket, self.s3_prefix)
        validate.role_arn(self.role_arn)
        for name in ("max_attempts", "max_records_per_file", "max_records_per_job", "max_bytes_per_file",
                     "max_bytes_per_job", "min_records_per_job", "max_concurrent_jobs"):
            validate.at_least(name, getattr(self, name), 1)
        for name in ("poll_interval_s", "job_timeout_s"):
            validate.at_least(name, getattr(self, name), 0.001)
        for name in ("bedrock_budget_usd", "retry_max_wait_hours"):
            validate.at_least(name, getattr(self, name), 0)
        validate.kms_key_id(self.output_kms_key_id)
        validate.tags(self.job_tags, product_keys=PRODUCT_TAG_KEYS)
        validate.vpc(self.vpc_subnet_ids, self.vpc_security_group_ids)
        validate.job_timeout_hours(self.job_timeout_hours)

    def tags_for(self, job_key: str, task_name: str) -> tuple[tuple[str, str], ...]:
        """The user's job_tags plus the product's own, which split spend by project, task, evaluation
        candidate (its jobs only) and job."""
        task, candidate = split_task_name(task_name)
        own = dict(zip(PRODUCT_TAG_KEYS, (self.dbt_project_name, task, job_key[:24], candidate), strict=True))
        return tuple(sorted({**self.job_tags, **{k: v for k, v in own.items() if v is not None}}.items()))

    @property
    def quotas(self) -> Quotas:
        return Quotas(
            max_records_per_file=self.max_records_per_file, max_bytes_per_file=self.max_bytes_per_file,
            max_records_per_job=self.max_records_per_job, max_bytes_per_job=self.max_bytes_per_job,
            min_records_per_job=self.min_records_per_job)

    @property
    def tasks(self) -> dict[str, Any]:
        return self.bedrock_ext_tasks

    @property
    def task_names(self) -> list[str]:
        return sorted(self.tasks)

    @cached_property
    def task_records(self) -> dict[str, RecordSettings]:
        """How each task's records are built, by task name in order: its prompt and schema, its own
        model and inference parameters where it sets them, else the package-level ones. Parsed
        once; ``from_dbt`` checks them all before anything else runs."""
        catalog, defaults, tasks = self.model_catalog, self.request_defaults, request_tasks(self.tasks)
        return {name: record_settings(name, tasks[name], defaults, catalog=catalog) for name in sorted(tasks)}

    @cached_property
    def evaluations(self) -> dict[str, Evaluation]:
        """The declared tasks' evaluation blocks, checked, by task name."""
        return {name: e for name in self.task_names if (e := evaluation_of(name, self.tasks[name])) is not None}

    @cached_property
    def judge_records(self) -> dict[str, RecordSettings]:
        """Each evaluation judge's request settings (``<task>:judge``), by name in order."""
        catalog, defaults, judges = self.model_catalog, self.request_defaults, judge_tasks(self.tasks)
        return {name: record_settings(name, judges[name], defaults, catalog=catalog) for name in sorted(judges)}

    def records_for(self, task_name: str) -> RecordSettings:
        if task_name not in self.task_records:
            raise ConfigError(f"task {task_name!r} is not declared; declared: {self.task_names}")
        return self.task_records[task_name]

    @property
    def model_catalog(self) -> Catalog:
        """The build's catalog (else the packaged one) with the user's application inference profiles."""
        return (self.catalog or packaged()).with_profiles(self.application_inference_profiles)

    @property
    def request_defaults(self) -> dict[str, Any]:
        defaults = {name: getattr(self, name) for name in TASK_OVERRIDES}
        return defaults | {"overlong_policy": self.overlong_policy}

    @property
    def output_s3_uri(self) -> str:
        return f"s3://{self.s3_bucket}/{self.s3_prefix.strip('/')}/output/"


# The tags the product adds to every job beside the user's job_tags (they count toward AWS's 200).
# (The candidate tag only on an evaluation candidate's jobs; counted always, to be safe.)
PRODUCT_TAG_KEYS = (
    "bedrock-ext:dbt-project", "bedrock-ext:task", "bedrock-ext:job-key", "bedrock-ext:candidate")
_TASK_TYPES = {"bedrock_model_id": "str", "invocation_type": "str", "max_tokens": "int", "temperature": "float",
               "top_p": "float", "top_k": "int", "overlong_policy": "str"}


def settings_fields() -> list[Any]:
    """BatchConfig's fields that are settings (dbt vars), in order."""
    return [f for f in fields(BatchConfig) if f.metadata.get("setting", True)]


def record_settings(task_name: str, spec: Any, defaults: dict[str, Any], *, catalog: Catalog | None = None,
                    native_structured_output: bool = False) -> RecordSettings:
    """A task's RecordSettings from its yml spec over the defaults (the package-level vars); the
    request fingerprint SQL function and the export both come here, so they always agree. The
    model's catalog row (``catalog``) gives its limits and whether the schema also goes in
    Converse's outputConfig; without a catalog (the SQL function), ``native_structured_output``
    is that flag, read by the SQL from the same dim_bedrock_models row."""
    task = Task.from_spec(task_name, spec)
    own = {k: spec[k] for k in TASK_OVERRIDES if isinstance(spec, dict) and spec.get(k) is not None}
    merged = {**defaults, **own}
    values = {k: _coerce(f"tasks.{task_name}.{k}" if k in (spec or {}) else k, merged.get(k), _TASK_TYPES[k])
              for k in _TASK_TYPES}
    for required in ("bedrock_model_id", "invocation_type", "max_tokens"):
        if values[required] is None:
            raise ConfigError(f"dbt var {required!r} is not set (nor tasks.{task_name}.{required})")
    entry = catalog.entry(values["bedrock_model_id"]) if catalog is not None else None
    native = entry.native_structured_output if entry is not None else native_structured_output
    return RecordSettings(model_id=values["bedrock_model_id"], task=task, max_tokens=values["max_tokens"],
                          temperature=values["temperature"], top_p=values["top_p"], top_k=values["top_k"],
                          invocation_type=values["invocation_type"],
                          overlong_policy=values["overlong_policy"] or "truncate", model=entry,
                          scope=catalog.scope(values["bedrock_model_id"]) if catalog is not None else None,
                          native_structured_output=native and values["invocation_type"] == "Converse")


_OPTIONAL = ("job_timeout_s", "bedrock_budget_usd", "temperature", "top_p", "top_k", "output_kms_key_id",
             "job_timeout_hours")
# Settings given as JSON (rendered with tojson in the model config): name -> (type, empty value).
_JSON: dict[str, tuple[type, Any]] = {"bedrock_ext_tasks": (dict, {}), "job_tags": (dict, {}),
                                      "application_inference_profiles": (dict, {}),
                                      "vpc_subnet_ids": (list, ()),
                                      "vpc_security_group_ids": (list, ())}


def _json_setting(name: str, raw: Any) -> Any:
    kind, empty = _JSON[name]
    if raw is None or str(raw).strip() in ("", "None", "null"):
        return empty
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        value = None
    if not isinstance(value, kind) or (kind is dict and not all(isinstance(k, str) for k in value)):
        wanted = ("list" if kind is list else "mapping of task names to tasks" if name == "bedrock_ext_tasks"
                  else "mapping of application inference profile ARNs to model ids"
                  if name == "application_inference_profiles" else "mapping of tag keys to values")
        raise ConfigError(f"dbt var {name!r} must be a {wanted}, got {raw!r}")
    if name == "bedrock_ext_tasks":
        return dict(value)
    return {k: str(v) for k, v in value.items()} if kind is dict else tuple(str(v) for v in value)


_TRUE, _FALSE = ("1", "true", "yes"), ("0", "false", "no")


def _coerce(name: str, raw: Any, type_name: str) -> Any:
    """A dbt var as rendered into model config (always text) back to its type; None for unset."""
    if raw is None or str(raw).strip().lower() in ("", "none", "null"):
        return None
    kind = type_name.split(" ")[0]
    try:
        if kind == "bool":
            text = str(raw).strip().lower()
            if isinstance(raw, bool) or text in _TRUE + _FALSE:
                return raw if isinstance(raw, bool) else text in _TRUE
            raise ValueError(raw)
        if kind == "int":
            as_float = float(raw)
            if as_float != int(as_float):
                raise ValueError(raw)
            return int(as_float)
        if kind == "float":
            value = float(raw)
            if math.isnan(value):
                raise ValueError(raw)
            return value
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"dbt var {name!r} must be a {kind}, got {raw!r}") from None
    return str(raw)
