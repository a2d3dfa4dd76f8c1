"""The report's "which candidate" part of a task: the evaluation marts as a table, cost per 1,000
rows against agreement or accuracy as a chart, and a confusion table per labelled enum field.
Read only when the marts are there (a build with bedrock_ext 0.5 or later) and the task declares an
evaluation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from bedrock_ext.report import charts
from bedrock_ext.report.charts import safe_text

TABLES = (
    "fct_bedrock_evaluation_candidates", "fct_bedrock_evaluation_scores", "fct_bedrock_evaluation_confusion")
_CANDIDATE_COLUMNS = ("candidate_name", "model_id", "endpoint_scope", "sample_rows", "answered_rows",
                      "valid_answer_rate", "mean_category_agreement", "mean_category_accuracy",
                      "mean_category_macro_f1", "judged_rows", "mean_judge_score", "input_tokens_per_row",
                      "output_tokens_per_row",
                      "cost_per_1000_rows_usd", "projected_batch_cost_usd")


@dataclass(frozen=True, kw_only=True)
class Evaluation:
    candidates: list[dict[str, Any]]
    scores: list[dict[str, Any]]  # per candidate and field
    confusion: dict[tuple[str, str], list[tuple[str, str, int]]]  # (field, candidate) -> label, answer, rows


def load(con: duckdb.DuckDBPyConnection, task: str, tables: set[str]) -> Evaluation | None:
    if not set(TABLES) <= tables:
        return None
    candidates = [dict(zip(_CANDIDATE_COLUMNS, row, strict=True)) for row in con.execute(
        f"select {', '.join(_CANDIDATE_COLUMNS)} from fct_bedrock_evaluation_candidates where task_name = ? "
        "order by candidate_name <> 'reference', candidate_name", [task]).fetchall()]
    if not candidates:
        return None
    score_columns = ("candidate_name", "field_name", "field_kind", "valid_answer_rate", "agreement", "accuracy",
                     "macro_f1", "mean_abs_diff", "within_one_rate", "length_ratio", "text_similarity")
    scores = [dict(zip(score_columns, row, strict=True)) for row in con.execute(
        f"select {', '.join(score_columns)} from fct_bedrock_evaluation_scores where task_name = ? "
        "order by field_name, candidate_name <> 'reference', candidate_name", [task]).fetchall()]
    confusion: dict[tuple[str, str], list[tuple[str, str, int]]] = {}
    for field, candidate, label, answer, rows in con.execute(
            "select field_name, candidate_name, label_value, answer_value, row_count "
            "from fct_bedrock_evaluation_confusion where task_name = ? order by all", [task]).fetchall():
        confusion.setdefault((field, candidate), []).append((label, answer, int(rows)))
    return Evaluation(candidates=candidates, scores=scores, confusion=confusion)


def _rate(value: Any) -> str:
    return "–" if value is None else f"{float(value):.3f}"


def _usd(value: Any) -> str:
    return "–" if value is None else f"${float(value):,.4f}"


def _judge(candidate: dict[str, Any]) -> str:
    if not candidate["judged_rows"]:
        return "–"
    return f"{float(candidate['mean_judge_score']):.2f} ({candidate['judged_rows']:,} rows)"


def _table(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    header = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{header}</tr>{body}</table>"


def _candidates_table(evaluation: Evaluation) -> str:
    head = ("candidate", "model", "answered", "agreement", "accuracy", "macro-F1", "judge (1-5)",
            "tokens in / out", "per 1,000 rows (batch)", "whole input (batch)")
    rows = [(safe_text(c["candidate_name"]), safe_text(c["model_id"]),
             f"{c['answered_rows']:,} / {c['sample_rows']:,}", _rate(c["mean_category_agreement"]),
             _rate(c["mean_category_accuracy"]), _rate(c["mean_category_macro_f1"]), _judge(c),
             f"{float(c['input_tokens_per_row'] or 0):,.0f} / {float(c['output_tokens_per_row'] or 0):,.0f}",
             _usd(c["cost_per_1000_rows_usd"]), _usd(c["projected_batch_cost_usd"]))
            for c in evaluation.candidates]
    return _table(head, rows)


def _scores_table(evaluation: Evaluation) -> str:
    head = ("field", "kind", "candidate", "valid", "agreement", "accuracy", "macro-F1", "mean |diff|",
            "within 1", "length ratio", "similarity")
    rows = [(safe_text(s["field_name"]), safe_text(s["field_kind"]), safe_text(s["candidate_name"]),
             *(_rate(s[k]) for k in ("valid_answer_rate", "agreement", "accuracy", "macro_f1", "mean_abs_diff",
                                     "within_one_rate", "length_ratio", "text_similarity")))
            for s in evaluation.scores]
    return _table(head, rows)


def _confusion_table(rows: list[tuple[str, str, int]]) -> str:
    labels = sorted({label for label, _, _ in rows} | {answer for _, answer, _ in rows})
    counts = {(label, answer): n for label, answer, n in rows}
    head = ("label \\ answer", *(safe_text(a) for a in labels))
    body = [(safe_text(label), *(f"{counts.get((label, a), 0):,}" for a in labels)) for label in labels]
    return f'<div class="scroll">{_table(head, body)}</div>'


def render(evaluation: Evaluation, card: Any) -> str:
    """The candidate part of a task's section; ``card`` wraps a titled block as the page does."""
    labelled = any(c["mean_category_accuracy"] is not None for c in evaluation.candidates)
    metric, name = ("mean_category_accuracy", "accuracy vs labels") if labelled else \
        ("mean_category_agreement", "agreement with the reference")
    points = [(str(c["candidate_name"]), c["cost_per_1000_rows_usd"], c[metric]) for c in evaluation.candidates]
    chart = charts.scatter(points, f"cost per 1,000 rows against {name}", "USD per 1,000 rows (batch)", name)
    confusion = "".join(card(f"{field}: {candidate} (rows: label → answer)", _confusion_table(rows))
                        for (field, candidate), rows in sorted(evaluation.confusion.items()))
    return f"""<h3>Which candidate</h3>
<p>Candidates of the task's evaluation on the same sample rows; the reference is the task's own settings
(its production answers). Cost per 1,000 rows is at the batch price of each candidate's endpoint.</p>
{_candidates_table(evaluation)}
<div class="grid">{card("cost against quality", chart)}</div>
{_scores_table(evaluation)}
<div class="grid">{confusion}</div>"""
