"""pricing.py (batch vs on-demand)."""

from __future__ import annotations

import pytest

from bedrock_ext.errors import ConfigError
from bedrock_ext.request.pricing import cost, price_for


def test_batch_is_half_of_on_demand() -> None:
    price = price_for("us.anthropic.claude-3-haiku-20240307-v1:0")
    c = cost(price, 1_000_000, 1_000_000)
    assert (c.on_demand_usd, c.batch_usd, c.savings_usd) == (1.5, 0.75, 0.75)
    assert cost(price, 13_142, 84_959).batch_usd == pytest.approx((13_142 * 0.125 + 84_959 * 0.625) / 1e6, abs=1e-6)


def test_unknown_model_price_names_the_model() -> None:
    with pytest.raises(ConfigError, match="acme.x"):
        price_for("acme.x")
