"""The report page: inline CSS and SVG, no script, every value from the marts escaped.

Text that came from the model goes through ``charts.safe_text``: escaped, and never a
spreadsheet formula when copied out.
"""

from __future__ import annotations

from html import escape
from typing import Any

from bedrock_ext.report import charts, evaluation
from bedrock_ext.report.charts import safe_text
from bedrock_ext.report.data import Field, ReportData, TaskSection

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1180px;
color:#222}
h1{font-size:1.5em;margin-bottom:.2em} h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}
.note{background:#fff4d6;border:1px solid #e8c36a;padding:8px 12px;border-radius:6px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(540px,1fr));gap:18px}
.card{border:1px solid #e3e3e3;border-radius:8px;padding:10px 14px}
.kpis{display:flex;gap:14px;flex-wrap:wrap} .kpi{border:1px solid #e3e3e3;border-radius:8px;padding:8px 14px}
.kpi b{display:block;font-size:1.4em} table{border-collapse:collapse;font-size:.88em;width:100%}
td,th{border-bottom:1px solid #eee;padding:4px 6px;text-align:left;vertical-align:top} th{background:#fafafa}
svg text{font-size:11px;fill:#333} svg .legend{font-size:10px} .empty{color:#888}
.scroll{overflow-x:auto} .scroll table{width:auto;font-size:.8em}
"""


def _money(value: Any) -> str:
    return "–" if value is None else f"${float(value):,.4f}"


def _card(title: str, body: str) -> str:
    return f'<div class="card"><h3>{escape(title)}</h3>{body}</div>'


def _field_card(field: Field, data: Any) -> str:
    grouped = f" by {field.group_by}" if field.group_by else ""
    if field.kind == "enum":
        return _card(f"{field.name}{grouped}", charts.grouped_bars(data, f"{field.name}{grouped}"))
    if field.kind == "boolean":
        return _card(f"{field.name}: share true{grouped}", charts.grouped_bars(data, f"{field.name}{grouped}"))
    if field.kind == "number":
        return _card(f"{field.name}: {_spread(data)}", charts.histogram(data, field.name))
    if field.kind == "string_list":
        return _card(
            f"top {field.name}", charts.bars([(str(k), float(n)) for k, n in data], field.name, label_w=340)
        )
    items = ("".join(f"<li>{safe_text(v)}</li>" for v in data["samples"])
             or '<li class="empty">No data yet.</li>')
    return _card(f"{field.name}: samples and lengths",
                 f"<ul>{items}</ul>{charts.histogram(data['lengths'], f'{field.name} length (characters)')}")


def _spread(values: list[float]) -> str:
    if not values:
        return "no answers yet"
    ordered = sorted(values)
    return (f"min {charts.number(ordered[0])}, median {charts.number(ordered[len(ordered) // 2])}, "
            f"max {charts.number(ordered[-1])}")


def _jobs_table(jobs: list[dict[str, Any]]) -> str:
    head = ("job", "status", "records", "tokens in / out", "batch", "on-demand", "saving", "per 1,000 rows")
    rows = []
    for j in jobs:
        per_k = (
            (float(j["batch_cost_usd"]) / j["records"] * 1000) if j["batch_cost_usd"] and j["records"] else None
        )
        rows.append(
            "<tr>"
            + "".join(
                f"<td>{c}</td>"
                for c in (
                    safe_text(j["job_name"]),
                    safe_text(j["job_status"]),
                    f"{j['records'] or 0:,}",
                    f"{j['input_tokens'] or 0:,} / {j['output_tokens'] or 0:,}",
                    _money(j["batch_cost_usd"]),
                    _money(j["on_demand_cost_usd"]),
                    _money(j["savings_usd"]),
                    _money(per_k),
                )
            )
            + "</tr>"
        )
    header = "".join(f"<th>{h}</th>" for h in head)
    return f"<table><tr>{header}</tr>{''.join(rows)}</table>" if rows else '<p class="empty">No jobs yet.</p>'


def _task_section(task: TaskSection) -> str:
    status_totals: dict[str, int] = {}
    for status, _, n in task.status_counts:
        status_totals[status] = status_totals.get(status, 0) + n
    reasons = "".join(
        f"<tr><td>{safe_text(s)}</td><td>{safe_text(r)}</td><td>{n:,}</td></tr>"
        for s, r, n in task.status_counts
    )
    t = task.totals
    kpis = (
        ("rows", f"{t['rows'] or 0:,}"),
        ("answered", f"{t['answered'] or 0:,}"),
        ("billed", _money(t["billed_usd"])),
        ("same tokens on demand", _money(t["on_demand_usd"])),
        ("tokens per row", f"{float(t['tokens_per_row'] or 0):,.0f}"),
    )
    shares = "".join(
        _card(share.label, charts.bars([(g, round(r * 100, 1)) for g, r in share.rows], f"{share.label}, %"))
        for share in task.shares
    )
    return f"""<section id="task-{escape(task.task_name)}">
<h2>{escape(task.title)} <small>(task {escape(task.task_name)}, {escape(task.model_id)})</small></h2>
<div class="kpis">{"".join(f'<div class="kpi"><span>{escape(k)}</span><b>{v}</b></div>' for k, v in kpis)}</div>
<h3>Every row accounted for</h3>
<div class="grid">{_card("rows by status", charts.bars(list(status_totals.items()), "rows by status"))}
{_card("why", f"<table><tr><th>status</th><th>reason</th><th>rows</th></tr>{reasons}</table>")}
{_card("failures by error code",
       charts.bars([(str(c), float(n)) for c, n in task.failures_by_code], "failures by error code"))}
{shares}</div>
<h3>Answers</h3>
<div class="grid">{"".join(_field_card(f, d) for f, d in task.fields)}</div>
<div class="grid">{_card("tokens per row", charts.histogram(task.tokens_per_row, "tokens per row"))}</div>
{evaluation.render(task.evaluation, _card) if task.evaluation else ""}
</section>"""


def render(data: ReportData, title: str | None = None) -> str:
    title = title or (data.tasks[0].title if len(data.tasks) == 1 else "bedrock_ext results")
    local = (
        '<p class="note">These answers come from the <b>local emulator</b>, a deterministic heuristic, not an '
        "LLM: they measure the pipeline, not a model; costs are what the same tokens would cost on Amazon "
        "Bedrock.</p>"
        if data.is_local_emulator
        else ""
    )
    timeline = [
        (j["job_name"], j["submitted_at"], j["ended_at"], j["job_status"])
        for j in data.jobs
        if j["submitted_at"] is not None
    ]
    sections = "".join(_task_section(t) for t in data.tasks) or '<p class="empty">No task is declared.</p>'
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_CSS}</style></head>
<body>
<h1>{escape(title)}</h1>
<p>Generated {data.generated_at:%Y-%m-%d %H:%M} UTC by <code>bedrock-ext report</code> from the package's marts
({len(data.tasks)} task{"s" if len(data.tasks) != 1 else ""}).</p>
{local}
{sections}
<h2>Cost</h2>
<div class="grid">{
        _card(
            "batch vs on-demand per job",
            charts.grouped_bars(
                [
                    (j["job_name"][-12:], kind, float(j[col] or 0))
                    for j in data.jobs
                    for kind, col in (("batch", "batch_cost_usd"), ("saving", "savings_usd"))
                ],
                "USD per job",
            ),
        )
    }</div>
{_jobs_table(data.jobs)}
<h2>Jobs over time</h2>
{charts.timeline(timeline, "batch jobs: submitted to ended")}
</body></html>
"""
