"""Token prices and cost arithmetic: batch (50% of on-demand) against on-demand.

Prices are USD per 1M tokens, on-demand, us-east-1, from secondary sources (see
shared/notes/bedrock_batch.md §6); the dbt seed `bedrock_model_prices` is the table users edit.
"""

from __future__ import annotations

from dataclasses import dataclass

from bedrock_ext.errors import ConfigError
from bedrock_ext.records import base_model_id

BATCH_DISCOUNT = 0.5


@dataclass(frozen=True, kw_only=True)
class ModelPrice:
    model_id: str
    input_per_million: float
    output_per_million: float
    batch_discount: float = BATCH_DISCOUNT


_ON_DEMAND_PER_MILLION = (  # model id, input, output
    ("anthropic.claude-3-haiku-20240307-v1:0", 0.25, 1.25),
    ("anthropic.claude-3-5-haiku-20241022-v1:0", 0.80, 4.00),
    ("anthropic.claude-3-5-sonnet-20240620-v1:0", 3.00, 15.00),
    ("anthropic.claude-3-5-sonnet-20241022-v2:0", 3.00, 15.00),
    ("amazon.nova-micro-v1:0", 0.035, 0.14),
    ("amazon.nova-lite-v1:0", 0.06, 0.24),
    ("amazon.nova-pro-v1:0", 0.80, 3.20),
)
PRICES: dict[str, ModelPrice] = {
    m: ModelPrice(model_id=m, input_per_million=i, output_per_million=o) for m, i, o in _ON_DEMAND_PER_MILLION
}


def price_for(model_id: str) -> ModelPrice:
    """The price of a model id in any form (``records.base_model_id``: inference profiles, ARNs)."""
    base = base_model_id(model_id)
    if base in PRICES:
        return PRICES[base]
    raise ConfigError(f"no price for model {model_id!r}; known: {', '.join(sorted(PRICES))}. "
                      "Add it to bedrock_ext/pricing.py and the bedrock_model_prices seed.")


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
    on_demand = (input_tokens * price.input_per_million + output_tokens * price.output_per_million) / 1e6
    return Cost(input_tokens=input_tokens, output_tokens=output_tokens, on_demand_usd=round(on_demand, 6),
                batch_usd=round(on_demand * (1 - price.batch_discount), 6))
