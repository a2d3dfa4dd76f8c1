"""Pre-submit cost estimate and the budget guard."""

from __future__ import annotations

from dataclasses import dataclass

from bedrock_ext.errors import BudgetExceededError
from bedrock_ext.pricing import Cost


@dataclass(frozen=True, kw_only=True)
class Estimate:
    records: int
    skipped: dict[str, int]
    truncated: int
    cost: Cost  # input tokens estimated from text; output tokens at the max_tokens upper bound

    def describe(self) -> str:
        c = self.cost
        skipped = ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items())) or "none"
        return (f"{self.records} records ({self.truncated} truncated; skipped: {skipped}); "
                f"~{c.input_tokens} input + <= {c.output_tokens} output tokens; "
                f"batch ${c.batch_usd:.4f} vs on-demand ${c.on_demand_usd:.4f} (saves ${c.savings_usd:.4f})")


def check_budget(est: Estimate, budget_usd: float | None) -> None:
    """Raise when the batch cost estimate is above ``budget_usd`` (None: no budget)."""
    if budget_usd is not None and est.cost.batch_usd > budget_usd:
        raise BudgetExceededError(
            f"estimated batch cost ${est.cost.batch_usd:.4f} is above bedrock_budget_usd "
            f"${budget_usd:.4f} ({est.describe()}). Raise the budget or summarize fewer transcripts.")
