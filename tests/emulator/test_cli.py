"""`bedrock-ext jobs ...` and `estimate` against the emulator: output, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bedrock_ext.cli.main import main
from bedrock_ext.transcripts.generator import GenerateSpec, write_dataset
from tests.emulator import runner_child
from tests.emulator.conftest import Aws
from tests.example import EXAMPLE_PROJECT

# The example's task over the raw transcripts (its staging renames transcript to transcript_text).
EXAMPLE_ARGS = ("--project-dir", str(EXAMPLE_PROJECT), "--text-column", "transcript")


def test_jobs_list_show_wait_stop(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    (job,) = runner_child.run(aws.emulator.endpoint_url, aws.bucket, 50)
    ep = ["--endpoint-url", aws.emulator.endpoint_url]
    assert main(["jobs", "list", *ep, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [j["job_id"] for j in listed] == [job.job_id] and listed[0]["status"] == "Completed"
    assert main(["jobs", "show", job.job_id, *ep]) == 0
    assert json.loads(capsys.readouterr().out)["total_records"] == 50
    assert main(["jobs", "wait", job.job_arn, *ep, "--poll-interval", "0.05"]) == 0
    assert main(["jobs", "stop", job.job_id, *ep]) == 1  # already Completed
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "State was: Completed" in err


def test_jobs_show_unknown_job_is_one_line(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jobs", "show", "abcdefabcdef", "--endpoint-url", aws.emulator.endpoint_url]) == 1
    err = capsys.readouterr().err
    assert err.startswith("bedrock-ext: error: GetModelInvocationJob") and "ResourceNotFoundException" in err


def test_estimate_and_budget_guard(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "t.parquet"
    write_dataset(GenerateSpec(rows=200, adversarial=True), data)
    assert main(["estimate", "--parquet", str(data), *EXAMPLE_ARGS]) == 0
    out = capsys.readouterr().out
    # 212 rows: 3 blank and 2 superseded duplicate call ids, as the dbt build counts them (207).
    assert out.startswith("207 records") and "3 blank_text" in out and "batch $" in out
    assert main(["estimate", "--parquet", str(data), "--budget-usd", "0.001", *EXAMPLE_ARGS]) == 1
    assert "above bedrock_budget_usd $0.0010" in capsys.readouterr().err


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.startswith("bedrock-ext: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_jobs_list_against_the_emulator_needs_no_credentials(aws: Aws, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BEDROCK_EXT_ENDPOINT_URL", aws.emulator.endpoint_url)
    assert main(["jobs", "list", "--endpoint-url", aws.emulator.endpoint_url]) == 0
    assert capsys.readouterr().err == ""


def test_no_credentials_for_aws_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "BEDROCK_EXT_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    assert main(["jobs", "list"]) == 1  # fails before any request is sent: no credentials
    assert "no AWS credentials found" in _one_line_error(capsys)


def test_unreachable_endpoint_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as s:  # a free port on 127.0.0.1 that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["jobs", "list", "--endpoint-url", f"http://127.0.0.1:{port}"]) == 1
    assert "cannot reach" in _one_line_error(capsys)


@pytest.mark.parametrize(("args", "message"), [
    (["--parquet", "/nonexistent/t.parquet"], "no such file"),
    (["--duckdb", "MISSING", "--table", "t"], "no such file"),
    (["--parquet", "DATA", "--text-column", "body"], "text column (--text-column) 'body' is not a column"),
    (["--duckdb", "DB", "--table", "nope", "--text-column", "transcript"], "Table with name nope does not exist"),
])
def test_estimate_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                                      message: str) -> None:
    import duckdb

    data, db = tmp_path / "t.parquet", tmp_path / "t.duckdb"
    write_dataset(GenerateSpec(rows=20), data)
    with duckdb.connect(str(db)) as con:
        con.execute(f"create schema analytics; create table analytics.calls as select * from read_parquet('{data}')")
    names = {"DATA": str(data), "DB": str(db), "MISSING": str(tmp_path / "missing.duckdb")}
    assert main(["estimate", *[names.get(a, a) for a in args], "--project-dir", str(EXAMPLE_PROJECT)]) == 1
    assert message in _one_line_error(capsys)


def test_estimate_reads_a_schema_qualified_duckdb_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import duckdb

    data, db = tmp_path / "t.parquet", tmp_path / "t.duckdb"
    write_dataset(GenerateSpec(rows=30), data)
    with duckdb.connect(str(db)) as con:
        con.execute(f"create schema analytics; create table analytics.calls as select * from read_parquet('{data}')")
    assert main(["estimate", "--duckdb", str(db), "--table", "analytics.calls", *EXAMPLE_ARGS]) == 0
    assert capsys.readouterr().out.startswith("30 records")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.startswith("bedrock-ext ")


def test_estimate_a_task_declared_in_a_dbt_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--project-dir --task`: the task's own template over its own columns, as the build sends it."""
    import duckdb
    import yaml

    task = {"input": "tickets", "id_column": "ticket_id", "text_column": "body",
            "prompt": {"system": "Triage.", "user": "Priority {priority}.\n{body}"},
            "answer_schema": {"type": "object", "additionalProperties": False,
                              "properties": {"category": {"type": "string", "enum": ["a", "b"]}}}}
    (tmp_path / "dbt_project.yml").write_text(yaml.safe_dump({"name": "p", "vars": {
        "bedrock_ext_tasks": {"triage": task}, "bedrock_ext": {"bedrock_model_id": "amazon.nova-lite-v1:0"}}}))
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create table tickets as select i as ticket_id, 'my bill ' || i as body, 'high' as priority, "
                    "from range(30) t(i) union all select 99, '  ', 'low'")
    args = ["estimate", "--duckdb", str(db), "--table", "tickets", "--project-dir", str(tmp_path)]
    assert main([*args, "--task", "triage"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("30 records") and "1 blank_text" in out
    assert main([*args, "--task", "nope"]) == 1
    assert "task 'nope' is not declared in" in _one_line_error(capsys)


def test_estimate_prices_a_task_with_the_projects_own_catalog_rows(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """The project's model_catalog_overrides seed (a newer price) reaches the CLI's estimate too."""
    import duckdb
    import yaml

    task = {"input": "tickets", "id_column": "ticket_id", "text_column": "body",
            "prompt": {"system": "Triage.", "user": "{body}"},
            "answer_schema": {"type": "object", "additionalProperties": False,
                              "properties": {"category": {"type": "string", "enum": ["a", "b"]}}}}
    package = {"bedrock_model_id": "us.amazon.nova-lite-v1:0"}
    project = {"name": "p", "vars": {"bedrock_ext_tasks": {"triage": task}, "bedrock_ext": package}}
    (tmp_path / "dbt_project.yml").write_text(yaml.safe_dump(project))
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create table tickets as select i as ticket_id, 'my bill ' || i as body from range(30) t(i)")
    args = ["estimate", "--duckdb", str(db), "--table", "tickets", "--project-dir", str(tmp_path), "--task", "triage"]
    assert main(args) == 0
    packaged_price = capsys.readouterr().out
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "prices.csv").write_text(
        "model_id,batch_input_usd_per_million,batch_output_usd_per_million\namazon.nova-lite-v1:0,3,12\n")
    project["vars"]["bedrock_ext"] = {**package, "model_catalog_overrides": "prices"}
    (tmp_path / "dbt_project.yml").write_text(yaml.safe_dump(project))
    assert main(args) == 0
    overridden = capsys.readouterr().out
    cost = lambda out: float(out.split("upper bound batch $")[1].split()[0])  # noqa: E731
    assert cost(overridden) == pytest.approx(100 * cost(packaged_price), rel=0.02)  # 3 / 0.03 and 12 / 0.12
