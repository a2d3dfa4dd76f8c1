"""The package's output staging SQL (stg_bedrock__batch_outputs, stg_bedrock__batch_manifests)
run by DuckDB outside dbt, over local files: the one parser of Bedrock's output lines, tested on
the lines themselves. Its two macros are given the meaning the package's macros have."""

from __future__ import annotations

from pathlib import Path

import duckdb
import jinja2

STAGING = Path(__file__).resolve().parents[2] / "dbt_package" / "models" / "staging" / "bedrock"


def render(model: str, con: duckdb.DuckDBPyConnection, root: Path) -> str:
    def read_text_or_empty(pattern: str) -> str:
        if con.execute("select count(*) from glob(?)", [pattern]).fetchone()[0]:  # type: ignore[index]
            return f"(select filename, content from read_text('{pattern}'))"
        return "(select null::varchar as filename, null::varchar as content where false)"

    context = {"read_text_or_empty": read_text_or_empty, "ref": lambda name: name,
               "bedrock_output_uri": lambda: f"{root}/output/", "bedrock_on_demand_uri": lambda: f"{root}/on-demand/"}
    return jinja2.Environment().from_string((STAGING / f"{model}.sql").read_text()).render(**context)


def rows(model: str, root: Path) -> list[dict]:
    """The model's rows over the files under ``root`` (output/<job id>/... and on-demand/<key>/...)."""
    with duckdb.connect() as con:
        cursor = con.execute(render(model, con, root))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
