"""`bedrock-ext report`: write the HTML report of the published marts."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from bedrock_ext.errors import ConfigError


def _cmd_report(args: argparse.Namespace) -> int:
    from bedrock_ext.report.data import load
    from bedrock_ext.report.render import render

    database = Path(args.duckdb)
    if not database.exists():
        raise ConfigError(
            f"--duckdb {str(database)!r}: no such file. Give the DuckDB file with the bedrock_ext marts: the "
            "published BI file (the package var bi_database_path) or the warehouse file, after dbt build."
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(load(str(database)), title=args.title), encoding="utf-8")
    logging.getLogger("bedrock_ext").info("wrote %s", out)
    return 0


def add_report_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="Write a self-contained HTML report of the published marts.")
    p.add_argument(
        "--duckdb",
        default="dbt_project/target/call_summaries_bi.duckdb",
        help="the published marts (default: the demo's)",
    )
    p.add_argument("--out", default="dbt_project/target/report.html", help="the HTML file to write")
    p.add_argument("--title", default=None, help="the page title (default: the task's report title)")
    p.set_defaults(handler=_cmd_report)
