"""The models the local emulator knows: the rows of the model catalog data file (the dbt
package's seed, shipped in ``bedrock_ext/data``). Read here with the emulator's own code, as AWS
knows its own models: the emulator shares data with the client side, not code."""

from __future__ import annotations

import csv
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

_GEO = ("us-gov", "us", "eu", "apac", "global", "jp", "au", "ca")


@dataclass(frozen=True)
class KnownModel:
    model_id: str
    context_window: int
    max_output_tokens: int
    batch_offered: bool
    batch_in_region: bool = True  # False: batch only through an inference profile
    refused_pairs: tuple[tuple[str, str], ...] = ()  # parameters the model refuses together


def _known(row: Mapping[str, str]) -> KnownModel:
    pairs = tuple(tuple(p.split("+", 1)) for p in (row.get("exclusive_params") or "").split() if "+" in p)
    return KnownModel(row["model_id"], int(row["context_window"]), int(row["max_output_tokens"]),
                      row["batch_offered"].strip().lower() == "true",
                      (row.get("batch_in_region") or "true").strip().lower() != "false",
                      pairs)  # type: ignore[arg-type]


@functools.cache
def known_models() -> dict[str, KnownModel]:
    text = resources.files("bedrock_ext").joinpath("data/bedrock_model_catalog.csv").read_text("utf-8")
    return {r["model_id"]: _known(r) for r in csv.DictReader(text.splitlines())}


def is_bare(model_id: str) -> bool:
    """A foundation model id or ARN (no inference profile): it runs in the caller's Region."""
    tail = model_id.rsplit("/", 1)[-1]
    return ":inference-profile/" not in model_id and tail.partition(".")[0] not in _GEO


def base_id(model_id: str, profiles: Mapping[str, str] | None = None) -> str:
    """The foundation model of a model id, a system inference profile id or ARN, a foundation
    model ARN, or an application inference profile ARN the emulator was told about."""
    model_id = (profiles or {}).get(model_id, model_id)
    tail = model_id.rsplit("/", 1)[-1]
    head, dot, rest = tail.partition(".")
    return rest if dot and head in _GEO else tail


def lookup(model_id: str, profiles: Mapping[str, str] | None = None) -> KnownModel | None:
    return known_models().get(base_id(model_id, profiles))
