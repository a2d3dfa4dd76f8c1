"""Choose the model and the prompt with evidence (issue 30), from the outside in: a foreign project
(its own schema, integer ids, labels) declares two candidates beside its task's own settings.
The scores in the marts equal the ones computed here from the rows; the production tables are
the same with and without the evaluation; an unchanged build requests nothing, an edited
candidate only its own sample; the budget guard refuses a candidate set before any upload; a
build killed while candidates run re-attaches; the report shows the comparison in a browser."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bedrock_ext.cli.main import main
from bedrock_ext.request.pricing import price_for
from bedrock_ext.warehouse.plugin import shutdown_local_emulators
from tests.dbt import foreign
from tests.dbt.conftest import FAST_JOBS
from tests.dbt.tasks_examples import TICKET_TRIAGE, task
from tests.report.test_report_browser import _chromium, _run

ROWS, SAMPLE = 90, 30
MICRO = "amazon.nova-micro-v1:0"
TEXTS = ["I was billed twice, the invoice is wrong", "outage in the whole street since 9am",
         "the router hardware is faulty", "please change the account holder's email",
         "what are your opening hours", "can I get a refund for last month, urgent!!"]
EVALUATION = {
    "sample": {"size": SAMPLE, "stratify_by": "desk"},
    "labels": {"category": "true_category", "urgency": "true_urgency"},
    "candidates": {"micro": {"bedrock_model_id": MICRO},
                   "terse": {"prompt": {"system": "Triage the ticket in few words."}}},
}
# moto's S3 is one per process: each project gets a bucket of its own (_project).
VARS = {"s3_bucket": "helpdesk-evals", "s3_prefix": "evals/v1", "min_records_per_job": 1, "poll_interval_s": 0.05,
        "bi_database_path": "beside_warehouse"}
EMULATOR = {"quotas": {"min_records_per_job": 1}, "timings": FAST_JOBS,
            "faults": {"model_fidelity": {MICRO: 0.6}}}
MODEL_ID = "anthropic.claude-3-haiku-20240307-v1:0"


def _project(root: Path, evaluation: dict[str, Any] | None = EVALUATION) -> foreign.ForeignProject:
    project = foreign.create(root, name="helpdesk_evals", schema="support", package_vars=_vars(root),
                             tasks=_tasks(evaluation), sources=[{"name": "desk", "schema": "raw",
                                                                 "tables": [{"name": "tickets"}]}],
                             emulator=EMULATOR)
    project.sql("create schema if not exists raw")
    project.sql("create or replace table raw.tickets as select 50000 + i as ticket_id, "
                "'Ticket ' || i || ': ' || (?)[1 + i % 6] as body, ['low', 'high'][1 + i % 2] as priority, "
                "['north', 'south', 'east'][1 + i % 3] as desk, "
                "['billing', 'outage', 'hardware', 'account', 'other', 'billing'][1 + i % 6] as true_category, "
                "1 + i % 5 as true_urgency from range(?) t(i)", [TEXTS, ROWS])
    assert project.dbt(["deps"]).success
    return project


def _vars(root: Path, **changes: Any) -> dict[str, Any]:
    return {**VARS, "s3_bucket": f"helpdesk-evals-{hashlib.sha256(str(root).encode()).hexdigest()[:12]}", **changes}


def _tasks(evaluation: dict[str, Any] | None) -> dict[str, Any]:
    triage = task(TICKET_TRIAGE, input={"source": "desk", "table": "tickets"})
    if evaluation is not None:
        triage["evaluation"] = copy.deepcopy(evaluation)
    return {"triage": triage}


def _build(project: foreign.ForeignProject, **variables: Any) -> None:
    done = project.dbt(["build"], **variables)
    assert done.success, [str(r.message) for r in (done.result or []) if str(r.status) in ("error", "fail")]


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> foreign.ForeignProject:
    project = _project(tmp_path_factory.mktemp("evaluation") / "helpdesk")
    _build(project)
    return project


def _rows(project: foreign.ForeignProject) -> list[dict[str, Any]]:
    columns = ("candidate_name", "input_row_id", "status", "answer", "labels", "model_id", "input_tokens",
               "output_tokens", "batch_cost_usd")
    return [dict(zip(columns, r, strict=True)) for r in project.query(
        f"select {', '.join(columns)} from fct_bedrock_evaluation_rows order by all")]


def _macro_f1(pairs: list[tuple[str, str]]) -> float:
    classes = {label for label, _ in pairs} | {answer for _, answer in pairs}
    f1 = []
    for c in classes:
        tp = sum(1 for label, answer in pairs if label == c and answer == c)
        fp = sum(1 for label, answer in pairs if label != c and answer == c)
        fn = sum(1 for label, answer in pairs if label == c and answer != c)
        f1.append(2 * tp / (2 * tp + fp + fn))
    return sum(f1) / len(f1)


def test_each_candidate_answers_the_same_stratified_sample(evaluated: foreign.ForeignProject) -> None:
    rows = _rows(evaluated)
    by_candidate: dict[str, set[str]] = {}
    for r in rows:
        by_candidate.setdefault(r["candidate_name"], set()).add(r["input_row_id"])
    assert sorted(by_candidate) == ["micro", "reference", "terse"]
    samples = list(by_candidate.values())
    assert all(len(s) == SAMPLE for s in samples) and samples[0] == samples[1] == samples[2]
    desks = Counter(d for (d,) in evaluated.query(
        "select desk from raw.tickets where (ticket_id::varchar || '#1') in "
        f"({', '.join(repr(i) for i in samples[0])})"))
    assert desks == {"north": 10, "south": 10, "east": 10}  # each desk in its share of the input
    assert {r["model_id"] for r in rows if r["candidate_name"] == "micro"} == {MICRO}
    assert all(r["status"] == "answered" for r in rows)
    # never in the production tables
    assert evaluated.query("select count(*) from fct_bedrock_results where task_name <> 'triage'") == [(0,)]
    assert evaluated.query("select count(*), count(distinct task_name) from fct_bedrock_candidate_results") == \
        [(2 * SAMPLE, 2)]


def test_each_row_carries_the_message_its_candidate_was_sent(evaluated: foreign.ForeignProject) -> None:
    # The reference's text is rendered for the sample alone (the rows keep no copy of their text):
    # it equals the task's own rendering of that row, and each candidate's equals its own.
    mismatched = evaluated.query(
        "select e.candidate_name, e.input_row_id from fct_bedrock_evaluation_rows e "
        "join stg_bedrock_ext__input_rows i on i.input_row_id = e.input_row_id and i.task_name = "
        "case when e.candidate_name = 'reference' then e.task_name else e.task_name || ':' || e.candidate_name end "
        "where e.request_text is distinct from i.input_text")
    assert mismatched == []
    assert evaluated.query("select count(*) from fct_bedrock_evaluation_rows where request_text is null") == [(0,)]


def test_the_scores_equal_the_ones_computed_from_the_rows(evaluated: foreign.ForeignProject) -> None:
    rows = _rows(evaluated)
    answers = {(r["candidate_name"], r["input_row_id"]): json.loads(r["answer"]) for r in rows}
    labels = {r["input_row_id"]: json.loads(r["labels"]) for r in rows}
    scores = {(c, f): (agreement, accuracy, f1, mad, within) for c, f, agreement, accuracy, f1, mad, within in
              evaluated.query("select candidate_name, field_name, agreement, accuracy, macro_f1, mean_abs_diff, "
                              "within_one_rate from fct_bedrock_evaluation_scores")}
    ids = sorted(labels)
    for candidate in ("micro", "reference", "terse"):
        mine = [answers[(candidate, i)] for i in ids]
        ref = [answers[("reference", i)] for i in ids]
        category = [(labels[i]["category"], a["category"]) for i, a in zip(ids, mine, strict=True)]
        urgency = [(a["urgency"], r["urgency"]) for a, r in zip(mine, ref, strict=True)]
        agreement, accuracy, f1, _, _ = scores[(candidate, "category")]
        assert agreement == pytest.approx(sum(a["category"] == r["category"] for a, r in zip(mine, ref, strict=True))
                                          / len(ids))
        assert accuracy == pytest.approx(sum(lab == ans for lab, ans in category) / len(ids))
        assert f1 == pytest.approx(_macro_f1(category))
        _, accuracy, _, mad, within = scores[(candidate, "urgency")]
        assert mad == pytest.approx(sum(abs(a - r) for a, r in urgency) / len(ids))
        assert within == pytest.approx(sum(abs(a - r) <= 1 for a, r in urgency) / len(ids))
        assert accuracy == pytest.approx(sum(int(labels[i]["urgency"]) == a["urgency"]
                                             for i, a in zip(ids, mine, strict=True)) / len(ids))
    assert scores[("micro", "category")][0] < 1.0  # the emulator's fidelity 0.6 for Nova Micro shows
    assert scores[("reference", "category")][0] == 1.0


def test_cost_per_1000_rows_is_the_endpoints_batch_price_of_the_tokens(evaluated: foreign.ForeignProject) -> None:
    rows = _rows(evaluated)
    got = dict(evaluated.query("select candidate_name, cost_per_1000_rows_usd from fct_bedrock_evaluation_candidates"))
    projected = dict(evaluated.query("select candidate_name, projected_batch_cost_usd "
                                     "from fct_bedrock_evaluation_candidates"))
    for candidate, model in (("micro", MICRO), ("reference", MODEL_ID), ("terse", MODEL_ID)):
        price = price_for(model)
        mine = [r for r in rows if r["candidate_name"] == candidate]
        per_row = sum(round((r["input_tokens"] * price.batch_input_per_million + r["output_tokens"]
                             * price.batch_output_per_million) / 1e6, 8) for r in mine) / len(mine)  # cost_usd
        # each record's cost is rounded to 1e-8 USD (cost_usd); DuckDB and Python may round a half apart
        assert got[candidate] == pytest.approx(1000 * per_row, abs=1000 * 1e-8)
        assert projected[candidate] == pytest.approx(per_row * ROWS, abs=ROWS * 1e-8)
    assert got["micro"] < got["reference"] / 5  # Nova Micro's price against Claude 3 Haiku's


def test_the_report_shows_which_candidate_in_a_browser(evaluated: foreign.ForeignProject, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    bi = evaluated.root / "warehouse_bi.duckdb"  # the marts published for BI, beside the warehouse
    assert main(["report", "--duckdb", str(bi), "--out", str(out)]) == 0
    html = out.read_text()
    for text in ("Which candidate", "cost against quality", "category: micro (rows: label → answer)",
                 "per 1,000 rows (batch)", "macro-F1"):
        assert text in html, text
    browser = _chromium()
    dom = _run(browser, "--dump-dom", out.as_uri())
    assert dom.returncode == 0 and 'class="dot"' in dom.stdout and dom.stdout.count("label \\ answer") >= 3
    shot = tmp_path / "report.png"
    taken = _run(browser, f"--screenshot={shot}", "--window-size=1280,4000", "--hide-scrollbars", out.as_uri())
    assert taken.returncode == 0 and shot.stat().st_size > 20_000


def _snapshot(project: foreign.ForeignProject) -> dict[str, list[tuple]]:
    return {table: project.query(f"select * from {table} order by all")
            for table in ("fct_bedrock_results", "dim_bedrock_tasks")}


def _exports(project: foreign.ForeignProject) -> list[tuple]:
    return project.query("select task_name, count(*) from bedrock_batch_input group by 1 order by 1")


def test_production_is_the_same_with_and_without_an_evaluation_and_only_edits_are_requested(
        tmp_path: Path) -> None:
    project = _project(tmp_path / "helpdesk", evaluation=None)
    _build(project)
    before = _snapshot(project)
    foreign.write_project_yml(project.root, project.name, _vars(project.root), _tasks(EVALUATION))
    _build(project)
    assert _snapshot(project) == before  # byte for byte: the evaluation adds its own rows elsewhere
    assert _exports(project) == [("triage", ROWS), ("triage:micro", SAMPLE), ("triage:terse", SAMPLE)]

    _build(project)  # unchanged: nothing requested
    assert _exports(project) == [("triage", ROWS), ("triage:micro", SAMPLE), ("triage:terse", SAMPLE)]

    edited = copy.deepcopy(EVALUATION)
    edited["candidates"]["terse"]["prompt"]["system"] = "Triage the ticket. One word per field."
    foreign.write_project_yml(project.root, project.name, _vars(project.root), _tasks(edited))
    _build(project)  # only the edited candidate's sample, again
    assert _exports(project) == [("triage", ROWS), ("triage:micro", SAMPLE), ("triage:terse", 2 * SAMPLE)]
    assert _snapshot(project) == before

    pricey = copy.deepcopy(edited)
    pricey["candidates"]["sonnet"] = {"bedrock_model_id": "anthropic.claude-3-5-sonnet-20240620-v1:0"}
    foreign.write_project_yml(project.root, project.name, _vars(project.root, bedrock_budget_usd=0.01),
                              _tasks(pricey))
    uploads = _s3_files(project)
    done = project.dbt(["build"])
    assert not done.success
    assert "budget" in " ".join(str(r.message) for r in done.result or []).lower()
    assert _s3_files(project) == uploads  # refused before any upload
    assert _exports(project) == [("triage", ROWS), ("triage:micro", SAMPLE), ("triage:terse", 2 * SAMPLE)]


def _s3_files(project: foreign.ForeignProject) -> set[str]:
    root = project.root / "target" / "emulator" / "s3"
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "%etags" not in p.parts}


def test_a_build_killed_while_the_candidates_run_re_attaches_and_pays_once(tmp_path: Path) -> None:
    project = _project(tmp_path / "helpdesk", evaluation=None)
    _build(project)
    shutdown_local_emulators()  # the child process runs its own on the same state dir
    foreign.write_project_yml(project.root, project.name, _vars(project.root), _tasks(EVALUATION))
    state = project.root / "target" / "emulator" / "bedrock_jobs.json"
    slow = {**EMULATOR, "timings": {**FAST_JOBS, "in_progress_s": 3.0}}
    env = {**os.environ, "BEDROCK_EXT_EMULATOR_CONFIG": json.dumps(slow)}
    log = (project.root / "killed_build.log").open("w")
    child = subprocess.Popen([str(foreign.DBT), "build", *project._dirs()], cwd=project.root, env=env,
                             stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while not any(j["status"] == "InProgress" for j in _jobs(state)[1:]):  # a candidate's job
        assert child.poll() is None and time.monotonic() < deadline, "the candidates' jobs never ran"
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    jobs_then = len(_jobs(state))
    _build(project)
    assert len(_jobs(state)) == jobs_then == 3  # the task's job and one per candidate: re-attached, none new
    assert _paid_records(project.root) == ROWS + 2 * SAMPLE
    assert project.query("select candidate_name, count(*) from fct_bedrock_evaluation_rows "
                         "where status = 'answered' group by 1 order by 1") == \
        [("micro", SAMPLE), ("reference", SAMPLE), ("terse", SAMPLE)]


def _jobs(state: Path) -> list[dict[str, Any]]:
    try:
        return list(json.loads(state.read_text())["jobs"])
    except (OSError, ValueError):
        return []


def _paid_records(root: Path) -> int:
    files = [p for p in (root / "target" / "emulator" / "s3").rglob("*.jsonl.out")
             if p.is_file() and "%etags" not in p.parts]
    return sum(len([line for line in p.read_text().splitlines() if line.strip()]) for p in files)


def test_a_judge_grades_every_candidates_answers_in_the_next_build_once(tmp_path: Path) -> None:
    judged = copy.deepcopy(EVALUATION)
    judged["judge"] = {"rubric": "A good reply_draft is polite, short and names the next step.",
                       "bedrock_model_id": "amazon.nova-lite-v1:0"}
    project = _project(tmp_path / "helpdesk", evaluation=judged)
    _build(project)  # the candidates answer; nothing to judge yet
    assert project.query("select count(*) from fct_bedrock_evaluation_judgements") == [(0,)]
    _build(project)  # the judge reads the answers of the build before
    assert dict(_exports(project))["triage:judge"] == 3 * SAMPLE
    rows = project.query("select candidate_name, judgement_status, count(*), min(judge_score), max(judge_score) "
                         "from fct_bedrock_evaluation_judgements group by 1, 2 order by 1")
    assert [(c, s, n) for c, s, n, _, _ in rows] == [("micro", "judged", SAMPLE), ("reference", "judged", SAMPLE),
                                                     ("terse", "judged", SAMPLE)]
    assert all(1 <= low <= high <= 5 for _, _, _, low, high in rows)
    assert project.query(f"select count(*) from fct_bedrock_evaluation_candidates where judged_rows = {SAMPLE} "
                         "and mean_judge_score between 1 and 5") == [(3,)]
    assert project.query("select distinct judge_model_id from fct_bedrock_evaluation_judgements") == \
        [("amazon.nova-lite-v1:0",)]
    lines = [json.loads(line) for f in (project.root / "target" / "emulator" / "s3").rglob("*part-*.jsonl")
             if "%etags" not in f.parts for line in f.read_text().splitlines()]
    judged = [m for m in (line["modelInput"]["messages"][0]["content"][0]["text"] for line in lines)
              if m.startswith("The request:\n")]
    assert len(judged) == 3 * SAMPLE
    request, answer = judged[0].split("\n\nThe answer to grade:\n")
    assert request.startswith("The request:\nPriority given by the customer: ")
    assert list(json.loads(answer)) == ["reply_draft"]  # the text fields of the schema, by default
    _build(project)  # nothing new to judge
    assert dict(_exports(project))["triage:judge"] == 3 * SAMPLE
    tags = project.query("select distinct job_tags from bedrock_batch_jobs where task_name = 'triage:judge'")
    assert len(tags) == 1 and json.loads(tags[0][0])["bedrock-ext:candidate"] == "judge"
