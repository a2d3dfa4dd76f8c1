"""The model catalog: one row per Bedrock model (limits, batch support, prices), and the lookup of
any model id form to its row.

The data is the dbt package's seed ``bedrock_model_catalog`` (``bedrock_ext/data`` holds the same
file for use outside dbt). In a build, the catalog is ``dim_bedrock_models``: the seed with the
user's own rows (``model_catalog_overrides``) in place of the package's for the same model id.
The export, the estimate, the budget guard and the marts all read prices and limits from it.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

from bedrock_ext.errors import ConfigError

GEO_PREFIXES = ("us-gov", "us", "eu", "apac", "global", "jp", "au", "ca")
APPLICATION_PROFILE = ":application-inference-profile/"
HOW_TO_ADD = ("add a row for it to a seed of your own and name that seed in the package var "
              "model_catalog_overrides (README 'Models and prices')")


EndpointScope = Literal["in_region", "geo", "global"]
PRICE_COLUMNS = ("on_demand_input_usd_per_million", "on_demand_output_usd_per_million",
                 "batch_input_usd_per_million", "batch_output_usd_per_million")


def endpoint_scope(model_id: str, profiles: Mapping[str, str] | None = None) -> EndpointScope:
    """Which endpoint an id form runs on, which chooses its price: ``global`` (a ``global.``
    inference profile), ``geo`` (a geographic cross-Region profile: ``us.``, ``eu.``, ...) or
    ``in_region`` (a bare model id or foundation-model ARN). An application inference profile ARN
    has the scope of the id it is mapped to. The package's ``endpoint_scope`` macro is the same in
    SQL."""
    mapped = (profiles or {}).get(model_id)
    if mapped:
        return endpoint_scope(mapped)
    head, dot, _ = model_id.rsplit("/", 1)[-1].partition(".")
    if not dot or head not in GEO_PREFIXES:
        return "in_region"
    return "global" if head == "global" else "geo"


def base_model_id(model_id: str, profiles: Mapping[str, str] | None = None) -> str:
    """The foundation model id of any id form: a bare model id, a cross-region or global inference
    profile id (``us.``, ``eu.``, ``apac.``, ``global.`` ...), an ARN of either, or an application
    inference profile ARN mapped in ``profiles`` (the var ``application_inference_profiles``).
    The package's ``base_model_id`` macro is the same in SQL."""
    mapped = (profiles or {}).get(model_id)
    if mapped:
        return base_model_id(mapped)
    tail = model_id.rsplit("/", 1)[-1]
    head, dot, rest = tail.partition(".")
    return rest if dot and head in GEO_PREFIXES else tail


@dataclass(frozen=True, kw_only=True)
class ModelEntry:
    """One catalog row. Prices are USD per 1M tokens; None where no published price was found. The
    four price columns are the in-Region price; ``geo_*`` and ``global_*`` the price through a
    geographic or global inference profile where AWS publishes a separate figure (None: the same as
    in-Region)."""

    model_id: str
    provider: str
    model_name: str
    context_window: int
    max_output_tokens: int
    batch_offered: bool
    batch_converse: bool
    batch_invoke_model: bool
    native_structured_output: bool
    on_demand_input_usd_per_million: float | None
    on_demand_output_usd_per_million: float | None
    batch_input_usd_per_million: float | None
    batch_output_usd_per_million: float | None
    geo_on_demand_input_usd_per_million: float | None = None
    geo_on_demand_output_usd_per_million: float | None = None
    geo_batch_input_usd_per_million: float | None = None
    geo_batch_output_usd_per_million: float | None = None
    global_on_demand_input_usd_per_million: float | None = None
    global_on_demand_output_usd_per_million: float | None = None
    global_batch_input_usd_per_million: float | None = None
    global_batch_output_usd_per_million: float | None = None
    price_date: str | None = None
    price_source: str | None = None
    scope_price_source: str | None = None
    # False: AWS offers batch for this model only through an inference profile (profile_ids).
    batch_in_region: bool = True
    profile_ids: str | None = None  # space-separated system inference profile ids known to offer it
    # Request rules: parameter pairs the model refuses together, "a+b" separated by spaces.
    exclusive_params: str | None = None
    limits_source: str | None = None
    limits_date: str | None = None
    batch_source: str | None = None
    batch_date: str | None = None
    note: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ModelEntry:
        """From a CSV or table row (text, numbers or booleans); a bad value names its column."""
        model_id = str(row.get("model_id") or "").strip()
        if not model_id:
            raise ConfigError(f"model catalog row without a model_id: {dict(row)!r}")
        values: dict[str, Any] = {"model_id": model_id}
        for name, kind in _COLUMNS.items():
            values[name] = _parse(model_id, name, row.get(name), kind)
        return cls(**values)

    def prices(self, scope: EndpointScope) -> tuple[float | None, ...]:
        """The four prices (on-demand in, out; batch in, out) of an endpoint scope: the scope's own
        figures where the row gives them, else the in-Region ones."""
        base = tuple(getattr(self, c) for c in PRICE_COLUMNS)
        if scope == "in_region":
            return base
        own = tuple(getattr(self, f"{scope}_{c}") for c in PRICE_COLUMNS)
        return own if all(v is not None for v in own) else base

    def refused_pairs(self) -> tuple[tuple[str, str], ...]:
        """Parameter pairs the model refuses in one request (``exclusive_params``)."""
        pairs = (p.split("+", 1) for p in (self.exclusive_params or "").split() if "+" in p)
        return tuple((a, b) for a, b in pairs)

    def invocation_types(self) -> tuple[str, ...]:
        offered = (("Converse", self.batch_converse), ("InvokeModel", self.batch_invoke_model))
        return tuple(t for t, on in offered if on)


_COLUMNS = {"provider": "str", "model_name": "str", "context_window": "int!", "max_output_tokens": "int!",
            "batch_offered": "bool", "batch_converse": "bool", "batch_invoke_model": "bool",
            "native_structured_output": "bool",
            **{f"{scope}{c}": "float" for scope in ("", "geo_", "global_") for c in PRICE_COLUMNS},
            "price_date": "str", "price_source": "str", "scope_price_source": "str", "batch_in_region": "bool?",
            "profile_ids": "str", "exclusive_params": "str", "limits_source": "str", "limits_date": "str",
            "batch_source": "str", "batch_date": "str", "note": "str"}


def _parse(model_id: str, name: str, raw: Any, kind: str) -> Any:
    blank = raw is None or str(raw).strip() == ""
    if kind == "int!":
        try:
            value = int(str(raw).strip())
            if value >= 1:
                return value
        except ValueError:
            pass
        raise ConfigError(f"model catalog row {model_id!r}: {name} must be a whole number >= 1, got {raw!r}")
    if kind == "bool?" and blank:  # optional flag: a row without it keeps the default (True)
        return True
    if kind in ("bool", "bool?"):
        text = str(raw).strip().lower()
        if isinstance(raw, bool) or text in ("true", "false"):
            return raw if isinstance(raw, bool) else text == "true"
        raise ConfigError(f"model catalog row {model_id!r}: {name} must be true or false, got {raw!r}")
    if blank:
        return "" if kind == "str" and name in ("provider", "model_name") else None
    if kind == "float":
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not value >= 0:
            raise ConfigError(f"model catalog row {model_id!r}: {name} must be a price >= 0 or empty, "
                              f"got {raw!r}")
        return value
    return str(raw)


@dataclass(frozen=True, kw_only=True)
class Catalog:
    """Catalog rows by model id, and the application inference profiles the user mapped."""

    entries: Mapping[str, ModelEntry]
    profiles: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]], profiles: Mapping[str, str] | None = None) -> Catalog:
        entries: dict[str, ModelEntry] = {}
        for row in rows:
            entry = ModelEntry.from_row(row)
            entries[entry.model_id] = entry  # a later row (the user's) replaces an earlier one
        return cls(entries=entries, profiles=dict(profiles or {}))

    def overridden(self, rows: Iterable[Mapping[str, Any]]) -> Catalog:
        """This catalog with the user's rows: a row for a known model replaces the columns it gives
        (blank ones keep the package's value), a row for another model adds it. The SQL twin is
        dim_bedrock_models."""
        entries = dict(self.entries)
        for row in rows:
            given = {k: v for k, v in row.items() if v is not None and str(v).strip() != ""}
            base = entries.get(str(given.get("model_id", "")).strip())
            entry = ModelEntry.from_row({**dataclasses.asdict(base), **given} if base else given)
            entries[entry.model_id] = entry
        return Catalog(entries=entries, profiles=self.profiles)

    def with_profiles(self, profiles: Mapping[str, str]) -> Catalog:
        return Catalog(entries=self.entries, profiles={**self.profiles, **profiles})

    def base_model_id(self, model_id: str) -> str:
        return base_model_id(model_id, self.profiles)

    def entry(self, model_id: str) -> ModelEntry:
        """The row of any id form, or a ConfigError that says how to add one."""
        if APPLICATION_PROFILE in model_id and model_id not in self.profiles:
            raise ConfigError(
                f"model {model_id!r} is an application inference profile: its ARN does not say which model "
                "it runs. Map it to its foundation model id in the package var application_inference_profiles "
                f"({{'{model_id}': 'anthropic.claude-...'}}) so it is priced and its limits are known")
        base = self.base_model_id(model_id)
        found = self.entries.get(base)
        if found is None:
            near = difflib.get_close_matches(base, list(self.entries), n=3, cutoff=0.6)
            hint = f"; closest: {', '.join(near)}" if near else ""
            raise ConfigError(f"model {model_id!r} (base model {base!r}) is not in the model catalog of "
                              f"{len(self.entries)} models (dim_bedrock_models){hint}. To use it, {HOW_TO_ADD}")
        return found

    def scope(self, model_id: str) -> EndpointScope:
        return endpoint_scope(model_id, self.profiles)


@functools.cache
def packaged() -> Catalog:
    """The catalog shipped with the package (the seed's CSV), without any user override."""
    text = resources.files("bedrock_ext").joinpath("data/bedrock_model_catalog.csv").read_text("utf-8")
    return Catalog.from_rows(csv.DictReader(text.splitlines()))
