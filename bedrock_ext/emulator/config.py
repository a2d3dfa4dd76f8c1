"""Emulator settings: lifecycle timings, service quotas and deterministic fault injection."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

OUTCOMES = ("PartiallyCompleted", "Failed", "Expired", "Stopped")
GB = 10**9  # Bedrock batch quotas are stated in GB (decimal here, as our client assumes too)


def check_members(section: Any) -> None:
    """Each member has its default's type (a number: finite and >= 0; a bool; text; a list of HTTP
    codes): a bad value is refused when set, naming it, never later by a job's lifecycle."""
    for f in dataclasses.fields(section):
        value, default = getattr(section, f.name), f.default
        where = f"{type(section).__name__.lower()}.{f.name}"
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, int | float):
            ok = (isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
                  and value >= 0 and (isinstance(value, int) or not isinstance(default, int)))
        elif isinstance(default, tuple):
            ok = isinstance(value, tuple) and all(isinstance(v, int) and 100 <= v <= 599 for v in value)
        elif f.default_factory is dict:  # type: ignore[comparison-overlap]
            ok = isinstance(value, dict) and all(
                isinstance(k, str) and isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 1
                for k, v in value.items())
        else:
            ok = value is None or isinstance(value, str)
        if not ok:
            raise ValueError(f"{where} must be {_kind(default)}, got {value!r}")


def _kind(default: Any) -> str:
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, int):
        return "a whole number >= 0"
    if isinstance(default, float):
        return "a number >= 0"
    if default is dataclasses.MISSING:
        return "a mapping of model ids to numbers within [0, 1]"
    return "a list of HTTP status codes" if isinstance(default, tuple) else "a string"


@dataclass(frozen=True, kw_only=True)
class Timings:
    """Seconds a job spends in each status (real Bedrock: minutes to hours)."""

    submitted_s: float = 0.2
    validating_s: float = 0.3
    scheduled_s: float = 0.3
    in_progress_s: float = 1.0
    stopping_s: float = 0.2

    def __post_init__(self) -> None:
        check_members(self)


@dataclass(frozen=True, kw_only=True)
class Quotas:
    """Per-model service quotas; defaults are the commonly reported AWS defaults."""

    max_concurrent_jobs: int = 20
    min_records_per_job: int = 100
    max_records_per_job: int = 50_000
    max_records_per_file: int = 50_000
    max_bytes_per_file: int = 1 * GB
    max_bytes_per_job: int = 5 * GB

    def __post_init__(self) -> None:
        check_members(self)


@dataclass(frozen=True, kw_only=True)
class Faults:
    """Faults injected into jobs created while set; every choice is deterministic by seed."""

    seed: int = 0
    record_error_rate: float = 0.0
    record_error_codes: tuple[int, ...] = (429, 400, 500)
    malformed_line_rate: float = 0.0
    job_outcome: str | None = None
    failure_message: str = "Internal failure while processing the job. Retry the job."
    partial_fraction: float = 0.5
    create_throttle_count: int = 0
    slow_job_s: float = 0.0
    missing_manifest: bool = False
    invoke_latency_s: float = 0.0  # InvokeModel (on-demand) takes this long per call
    invalid_answer_rate: float = 0.0  # answers that break the request's schema (extra key, wrong enum, ...)
    # Per model (its foundation model id), the share of answer fields kept as the heuristic gives
    # them; the rest are changed deterministically (another enum value, a flipped boolean, a number
    # off by one, a string cut to its first sentence): a local comparison of candidates shows a
    # spread. Unlisted models: 1.0. Not a measure of any real model.
    model_fidelity: dict[str, float] = field(default_factory=dict)

    def fidelity_of(self, model_id: str) -> float:
        return float(self.model_fidelity.get(model_id, 1.0))

    def __post_init__(self) -> None:
        check_members(self)
        if self.job_outcome is not None and self.job_outcome not in OUTCOMES:
            raise ValueError(f"job_outcome {self.job_outcome!r} is not one of {OUTCOMES}")
        for name in ("record_error_rate", "malformed_line_rate", "partial_fraction", "invalid_answer_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {getattr(self, name)}")


@dataclass(frozen=True, kw_only=True)
class EmulatorConfig:
    """Everything that is settable per emulator instance (also at run time, via /_emulator/config)."""

    region: str = "us-east-1"
    account_id: str = "123456789012"
    timings: Timings = field(default_factory=Timings)
    quotas: Quotas = field(default_factory=Quotas)
    faults: Faults = field(default_factory=Faults)
    # Application inference profiles of the account (ARN -> foundation model id): real Bedrock
    # knows the profiles an account created; the emulator is told.
    application_inference_profiles: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EmulatorConfig:
        """From a JSON mapping; a ValueError names the first bad section or member."""
        for section in ("timings", "quotas", "faults", "application_inference_profiles"):
            if not isinstance(data.get(section, {}), dict):
                raise ValueError(f"{section} must be a mapping, got {data[section]!r}")
        faults = dict(data.get("faults", {}))
        if isinstance(faults.get("record_error_codes"), list):
            faults["record_error_codes"] = tuple(faults["record_error_codes"])
        return cls(
            region=data.get("region", "us-east-1"),
            account_id=data.get("account_id", "123456789012"),
            timings=Timings(**data.get("timings", {})),
            quotas=Quotas(**data.get("quotas", {})),
            faults=Faults(**faults),
            application_inference_profiles=dict(data.get("application_inference_profiles", {})),
        )

    def updated(self, data: dict[str, Any]) -> EmulatorConfig:
        """A copy with the sections in ``data`` merged over this one."""
        merged = self.to_dict()
        for section, values in data.items():
            if isinstance(merged.get(section), dict) and not isinstance(values, dict):
                raise ValueError(f"{section} must be a mapping, got {values!r}")
            if isinstance(merged.get(section), dict):
                merged[section].update(values)
            else:
                merged[section] = values
        return EmulatorConfig.from_dict(merged)
