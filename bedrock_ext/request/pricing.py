"""Token prices and cost arithmetic: batch against on-demand, at the model catalog's prices."""

from __future__ import annotations

from dataclasses import dataclass

from bedrock_ext.errors import ConfigError
from bedrock_ext.request.catalog import HOW_TO_ADD, Catalog, EndpointScope, ModelEntry, packaged


@dataclass(frozen=True, kw_only=True)
class ModelPrice:
    """USD per 1M tokens of one model through one endpoint scope, on demand and in batch."""

    model_id: str
    endpoint_scope: EndpointScope
    input_per_million: float
    output_per_million: float
    batch_input_per_million: float
    batch_output_per_million: float


def price_of(entry: ModelEntry, scope: EndpointScope = "in_region") -> ModelPrice:
    """A catalog row's prices through an endpoint scope (``catalog.endpoint_scope`` of the model id);
    a ConfigError when the row has none (nothing is sent unpriced)."""
    values = entry.prices(scope)
    if any(v is None for v in values):
        raise ConfigError(f"model {entry.model_id!r} has no complete price in the model catalog "
                          f"({entry.note or 'no published price found'}): {HOW_TO_ADD}")
    i, o, bi, bo = (float(v) for v in values)  # type: ignore[arg-type]
    return ModelPrice(model_id=entry.model_id, endpoint_scope=scope, input_per_million=i, output_per_million=o,
                      batch_input_per_million=bi, batch_output_per_million=bo)


def price_for(model_id: str, catalog: Catalog | None = None) -> ModelPrice:
    """The price of a model id in any form (inference profiles, ARNs), from ``catalog`` (the
    build's dim_bedrock_models) or the packaged catalog."""
    chosen = catalog or packaged()
    return price_of(chosen.entry(model_id), chosen.scope(model_id))


@dataclass(frozen=True, kw_only=True)
class Cost:
    input_tokens: int
    output_tokens: int
    on_demand_usd: float
    batch_usd: float

    @property
    def savings_usd(self) -> float:
        return round(self.on_demand_usd - self.batch_usd, 6)


def cost(price: ModelPrice, input_tokens: int, output_tokens: int) -> Cost:
    on_demand = input_tokens * price.input_per_million + output_tokens * price.output_per_million
    batch = input_tokens * price.batch_input_per_million + output_tokens * price.batch_output_per_million
    return Cost(input_tokens=input_tokens, output_tokens=output_tokens, on_demand_usd=round(on_demand / 1e6, 6),
                batch_usd=round(batch / 1e6, 6))
