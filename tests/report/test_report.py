"""`bedrock-ext report`: every section from the marts, model text escaped and never a formula."""

from __future__ import annotations

from pathlib import Path

import pytest

from bedrock_ext.cli.main import main
from bedrock_ext.report.charts import safe_text


def test_report_has_every_section_and_escapes_model_text(marts: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert main(["report", "--duckdb", str(marts), "--out", str(out)]) == 0
    html = out.read_text()
    for heading in (
        "Every row accounted for",
        "Answers",
        "intent by queue_name",
        "sentiment by queue_name",
        "resolution by queue_name",
        "top action_items",
        "failures by error code",
        "resolution rate",
        "tokens per row",
        "batch vs on-demand per job",
        "Jobs over time",
    ):
        assert heading in html, heading
    assert "<script" not in html.lower()  # the answer's <script> is text, not markup
    assert "&lt;script&gt;" in html
    assert "&#x27;=hyperlink(" in html.lower() and ">=hyperlink(" not in html.lower()  # no formula when copied
    assert "local emulator" in html and "record_error_400" in html and "blank_text" in html
    assert "Call-center summaries" in html  # the example's own report title, from its task declaration
    assert html.count("<svg") >= 8 and "<link" not in html and " src=" not in html  # self-contained


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", "&#x27;=1+1"),
        ("+SUM(A1)", "&#x27;+SUM(A1)"),
        ("-2", "&#x27;-2"),
        ("@x", "&#x27;@x"),
        ("<b>", "&lt;b&gt;"),
        ("plain", "plain"),
        (None, ""),
    ],
)
def test_safe_text(text: str | None, expected: str) -> None:
    assert safe_text(text) == expected


def test_report_of_a_missing_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--duckdb", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "r.html")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "after dbt build" in err
