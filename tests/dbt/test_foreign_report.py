"""Everything around the build follows the user's task, not our example (issue 29): a foreign
project (its own name, schema, integer ids, two tasks) publishes its marts for BI by setting one
package var, and `bedrock-ext report` on that file shows its own fields, in a real browser, with
no call-center word on the page; the emulator's local answers spread over the enum."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from bedrock_ext.cli.main import main
from tests.dbt import foreign
from tests.dbt.conftest import FAST_JOBS
from tests.dbt.tasks_examples import TICKET_LANGUAGE, TICKET_TRIAGE, task
from tests.report.test_report_browser import _chromium, _run

ROWS = 120
CATEGORY_TEXT = ["I was billed twice, the invoice is wrong", "outage in the whole street since 9am",
                 "the router hardware is faulty", "please change the account holder's email",
                 "what are your opening hours", "can I get a refund for last month, urgent!!",
                 "thanks for the help yesterday", "my neighbour wants to sign up too"]
TRIAGE_MODEL = "{{ bedrock_ext.task_results('ticket_triage') }}\n"
CALL_CENTER_WORDS = ("call-center", "call center", "transcript", "queue", "summar", "intent", "resolution")


@pytest.fixture(scope="module")
def support_desk(tmp_path_factory: pytest.TempPathFactory) -> foreign.ForeignProject:
    root = tmp_path_factory.mktemp("foreign_report") / "support_desk"
    triage = task(TICKET_TRIAGE, input={"source": "helpdesk", "table": "tickets"}, results_model="ticket_triage",
                  report={"title": "Ticket triage", "group_by": "priority"}, passthrough_columns=["priority"])
    language = task(TICKET_LANGUAGE, input={"source": "helpdesk", "table": "tickets"})
    project = foreign.create(
        root, name="support_desk", schema="analytics",
        package_vars={"s3_bucket": "support-desk-llm", "s3_prefix": "tickets/v1", "min_records_per_job": 1,
                      "poll_interval_s": 0.05, "bi_database_path": str(root / "bi" / "support_bi.duckdb")},
        tasks={"ticket_triage": triage, "ticket_language": language},
        sources=[{"name": "helpdesk", "schema": "raw", "tables": [{"name": "tickets"}]}],
        models={"ticket_triage.sql": TRIAGE_MODEL},
        emulator={"quotas": {"min_records_per_job": 1}, "timings": FAST_JOBS})
    project.sql("create schema raw")
    project.sql("create table raw.tickets as select i as ticket_id, 'Ticket ' || i || ': ' || (?)[1 + i % 8] "
                "as body, ['low', 'normal', 'high'][1 + i % 3] as priority from range(?) t(i)",
                [CATEGORY_TEXT, ROWS])
    assert project.dbt(["deps"]).success
    done = project.dbt(["build"])
    assert done.success, [str(r.message) for r in (done.result or []) if str(r.status) == "error"]
    return project


def _bi(project: foreign.ForeignProject) -> Path:
    return project.root / "bi" / "support_bi.duckdb"


def test_one_var_publishes_the_package_marts_and_the_typed_model(support_desk: foreign.ForeignProject) -> None:
    with duckdb.connect(str(_bi(support_desk)), read_only=True) as con:
        tables = {t for (t,) in con.execute("select table_name from information_schema.tables").fetchall()}
        assert {"fct_bedrock_results", "dim_batch_jobs", "fct_batch_job_costs", "dim_bedrock_models",
                "dim_bedrock_tasks", "ticket_triage"} <= tables
        assert con.execute("select count(*) from ticket_triage where status = 'answered'").fetchone() == (ROWS,)
        assert con.execute("select count(*) from dim_bedrock_tasks").fetchone() == (2,)


def test_local_answers_spread_over_the_enum(support_desk: foreign.ForeignProject) -> None:
    counts = dict(support_desk.query("select category, count(*) from ticket_triage group by 1"))
    assert max(counts.values()) <= 0.6 * ROWS and len(counts) >= 4, counts
    billing = support_desk.query("select count(*) filter (category = 'billing'), count(*) from ticket_triage t "
                                 "join raw.tickets r on r.ticket_id::varchar = t.input_id where r.body like '%billed%'")
    assert billing[0][0] == billing[0][1] > 0  # the text names it: the answer follows


def test_the_report_shows_the_projects_own_fields_in_a_browser(support_desk: foreign.ForeignProject,
                                                                tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert main(["report", "--duckdb", str(_bi(support_desk)), "--out", str(out)]) == 0
    html = out.read_text()
    for heading in ("Ticket triage", "category by priority", "urgency: min ", "needs_refund: share true by priority",
                    "reply_draft: samples and lengths", "task ticket_language", "tone", "mentions_competitor",
                    "top keywords"):
        assert heading in html, heading
    visible = re.sub(r"<[^>]+>", " ", html).lower()
    assert not [w for w in CALL_CENTER_WORDS if w in visible]
    browser = _chromium()
    dom = _run(browser, "--dump-dom", out.as_uri())
    assert dom.returncode == 0 and dom.stdout.count("<svg") >= 10, dom.stderr[-2000:]
    assert "Ticket triage" in dom.stdout and "ticket_language" in dom.stdout
    shot = tmp_path / "report.png"
    taken = _run(browser, f"--screenshot={shot}", "--window-size=1280,3200", "--hide-scrollbars", out.as_uri())
    assert taken.returncode == 0 and shot.stat().st_size > 20_000
