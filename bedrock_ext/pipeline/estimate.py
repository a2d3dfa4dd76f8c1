"""Pre-submit cost estimate and the budget guard.

Two figures: the upper bound (input tokens estimated from the text, every record answered at
``max_tokens``) and the expected cost (the same task and model's realized figures in earlier
builds: the mean output tokens per record and the ratio of realized to estimated input tokens;
before any history, ``DEFAULT_OUTPUT_SHARE`` of max_tokens and the estimate as it is)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bedrock_ext.errors import BudgetExceededError, ConfigError
from bedrock_ext.request.pricing import Cost

DEFAULT_OUTPUT_SHARE = 0.5  # expected output tokens per record before any history: half of max_tokens
BUDGET_BASES = ("upper_bound", "expected")


@dataclass(frozen=True, kw_only=True)
class History:
    """What earlier builds realized for one task and model."""

    records: int  # records with realized tokens
    output_tokens_per_record: float
    input_ratio: float  # realized input tokens / estimated input tokens

    def describe(self) -> str:
        if not self.records:
            return f"no history yet: {DEFAULT_OUTPUT_SHARE:g} x max_tokens per record"
        return (f"history of {self.records} records: {self.output_tokens_per_record:.0f} output tokens per "
                f"record, input x{self.input_ratio:.3f}")


NO_HISTORY = History(records=0, output_tokens_per_record=0.0, input_ratio=1.0)


def read_history(con: Any, exports: str, results: str, task_name: str, model_id: str) -> History:
    """What the task's earlier records on this model realized: ``results`` (fct_bedrock_results)
    against the estimates ``exports`` (bedrock_batch_input) made for them. The build and the CLI's
    estimate both read it."""
    estimates = (f"(select request_key, max(estimated_input_tokens) as estimated from {exports} "
                 "group by request_key)")
    row = con.execute(
        "select count(*), avg(p.output_tokens), sum(p.input_tokens) / nullif(sum(e.estimated), 0) "
        f"from {results} p join {estimates} e using (request_key) where p.task_name = ? "
        "and p.model_id = ? and p.output_tokens is not null and p.input_tokens is not null",
        [task_name, model_id]).fetchone()
    if not row or not row[0]:
        return NO_HISTORY
    return History(records=int(row[0]), output_tokens_per_record=float(row[1]),
                   input_ratio=float(row[2] or 1.0))


@dataclass(frozen=True, kw_only=True)
class Estimate:
    records: int
    skipped: dict[str, int]
    truncated: int
    cost: Cost  # the upper bound: input tokens estimated from text; output tokens at max_tokens
    expected: Cost | None = None  # from history (see the module docstring)
    history: History = NO_HISTORY

    def describe(self) -> str:
        c = self.cost
        skipped = ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items())) or "none"
        text = (f"{self.records} records ({self.truncated} truncated; skipped: {skipped}); "
                f"~{c.input_tokens} input + <= {c.output_tokens} output tokens; upper bound "
                f"batch ${c.batch_usd:.4f} vs on-demand ${c.on_demand_usd:.4f} (saves ${c.savings_usd:.4f})")
        if self.expected is not None:
            e = self.expected
            text += (f"; expected batch ${e.batch_usd:.4f} (~{e.input_tokens} input + ~{e.output_tokens} "
                     f"output tokens; {self.history.describe()})")
        return text

    def basis(self, name: str) -> Cost:
        """The figure the budget guard compares: the upper bound, or the expected cost."""
        if name not in BUDGET_BASES:
            raise ConfigError(f"budget_basis {name!r} is not allowed: use {', '.join(BUDGET_BASES)}")
        return self.expected if name == "expected" and self.expected is not None else self.cost


def check_budget(est: Estimate, budget_usd: float | None, basis: str = "upper_bound") -> None:
    """Raise when the estimate (by ``basis``) is above ``budget_usd`` (None: no budget)."""
    figure = est.basis(basis)
    if budget_usd is not None and figure.batch_usd > budget_usd:
        what = "upper bound" if figure is est.cost else "expected cost"
        raise BudgetExceededError(
            f"estimated batch cost (the {what}) ${figure.batch_usd:.4f} is above bedrock_budget_usd "
            f"${budget_usd:.4f} ({est.describe()}). Raise the budget or send fewer rows.")
