"""The package's output staging SQL (stg_bedrock__batch_outputs, stg_bedrock__batch_manifests)
run by DuckDB outside dbt, over local files: the one parser of Bedrock's output lines, tested on
the lines themselves."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.sql.package_sql import output_files_to_load, render_model


def rows(model: str, root: Path) -> list[dict]:
    """The model's rows over the files under ``root`` (output/<job id>/... and on-demand/<key>/...)."""
    with duckdb.connect() as con:
        extra = {"output_files_to_load": output_files_to_load(con),
                 "bedrock_output_uri": lambda: f"{root}/output/", "bedrock_on_demand_uri": lambda: f"{root}/on-demand/"}
        sql = render_model(f"staging/bedrock/{model}.sql", {}, {"bedrock_batch_jobs": "bedrock_batch_jobs"}, extra)
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
