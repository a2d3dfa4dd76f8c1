"""Print what `make demo` built: an excerpt of each table in the demo's DuckDB file."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import duckdb

PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
DATABASE = Path("target/call_summaries.duckdb")  # relative to PROJECT_DIR, as the views' paths are

EXCERPTS = (
    (
        "stg_call_center__transcripts",
        "select call_id, queue_name, duration_seconds, transcript_char_count,"
        " is_transcript_blank, is_duplicate_call_id"
        " from stg_call_center__transcripts order by call_id limit 8",
    ),
    (
        "stg_call_center__transcripts: totals",
        "select count(*) as source_rows,"
        " count(*) filter (where is_transcript_blank) as blank_rows,"
        " count(*) filter (where not is_latest_for_call_id) as superseded_duplicates"
        " from stg_call_center__transcripts",
    ),
)


def main() -> int:
    os.chdir(PROJECT_DIR)
    if not DATABASE.exists():
        print(f"no database at {DATABASE}: run `make demo` first", file=sys.stderr)
        return 1
    with duckdb.connect(str(DATABASE), read_only=True) as con:
        for title, sql in EXCERPTS:
            print(f"\n== {title}")
            con.sql(sql).show(max_width=160)
    return 0


if __name__ == "__main__":
    sys.exit(main())
