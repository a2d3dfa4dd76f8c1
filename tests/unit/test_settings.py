"""Each setting is declared once: its default and meaning in the package's dbt_project.yml
`vars:`. The batch models' config anchor maps the same names to the Python side (BatchConfig);
these checks keep the three lists from drifting apart."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import yaml

from bedrock_ext.pipeline.config import BatchConfig, settings_fields
from bedrock_ext.pipeline.sharding import plan_shards
from tests.sql.package_sql import output_files_to_load, render_model

PACKAGE = Path(__file__).resolve().parents[2] / "dbt_package"
SQL_ONLY = {"model_catalog_overrides",  # read by dim_bedrock_models; Python reads that table
            "bi_database_path",  # read by bedrock_bi_published_marts (SQL) only
            "lake_retention_hours",  # read by the on-run-end macro lake_maintenance only
            "bedrock_ext_full_data_tests",  # read by the data tests' where (yml) only
            "bedrock_ext_output_read_bytes"}  # read by the output staging's macro read_output_lines only


def _package_vars() -> dict:
    return yaml.safe_load((PACKAGE / "dbt_project.yml").read_text())["vars"]


def _anchor_keys() -> set[str]:
    models = yaml.safe_load((PACKAGE / "models" / "batch" / "_batch__models.yml").read_text())
    return set(models["x-batch-config"]["bedrock_ext"])


def test_the_batch_models_read_every_setting_the_package_declares() -> None:
    declared = set(_package_vars())
    assert _anchor_keys() - {"dbt_project_name"} == declared - SQL_ONLY


def test_batch_config_has_one_field_per_setting_the_models_pass() -> None:
    assert {f.name for f in settings_fields()} == _anchor_keys()


def _rendered_defaults() -> dict[str, str]:
    """The package's defaults as dbt passes them to the batch models (strings)."""
    defaults = {k: v for k, v in _package_vars().items() if k not in SQL_ONLY}
    rendered = {k: ("None" if v is None else str(v)) for k, v in defaults.items()}
    rendered.update(job_tags="{}", vpc_subnet_ids="[]", vpc_security_group_ids="[]", dbt_project_name="p",
                    application_inference_profiles="{}")
    example = yaml.safe_load((PACKAGE.parent / "dbt_project" / "dbt_project.yml").read_text())["vars"]
    rendered["bedrock_ext_tasks"] = json.dumps(example["bedrock_ext_tasks"])  # the package declares none
    return rendered


def test_the_package_defaults_are_a_valid_config() -> None:
    config = BatchConfig.from_dbt(_rendered_defaults())
    assert config.max_attempts == 3 and config.wait is True and config.top_p is None


def test_the_example_project_sets_only_names_the_package_declares() -> None:
    example = yaml.safe_load((PACKAGE.parent / "dbt_project" / "dbt_project.yml").read_text())
    assert set(example["vars"]["bedrock_ext"]) <= set(_package_vars())
    assert "bedrock_ext_tasks" in _package_vars()  # declared (empty) in the package, set globally by the project


def test_the_default_file_size_keeps_output_files_readable_within_the_memory_limit(tmp_path: Path) -> None:
    """A job of long transcripts is cut into files of at most 128 MB, and the staging reads two of
    the largest output files that allows (1.3x the input, two threads) within a 1GB memory limit
    (a 1.27 GB output file, which AWS's 1 GB input quota allows, fails even under 2GB)."""
    quotas = BatchConfig.from_dbt(_rendered_defaults()).quotas
    assert quotas.max_bytes_per_file == 128_000_000
    jobs = plan_shards([8_000] * 50_000, 50_000, quotas)  # 50,000 transcripts of 8 KB: 400 MB
    assert len(jobs) == 1 and len(jobs[0].files) == 4 and max(jobs[0].file_bytes) <= quotas.max_bytes_per_file
    line = json.dumps({"recordId": "R", "modelInput": {"messages": [{"role": "user", "content": [{"text": "x" * 9_000}]}]},
                       "modelOutput": {"content": [{"type": "text", "text": "{}"}], "stop_reason": "end_turn",
                                       "usage": {"input_tokens": 1, "output_tokens": 1}}}) + "\n"
    count = int(quotas.max_bytes_per_file * 1.3) // len(line)
    for job in ("abcdefghijk1", "abcdefghijk2"):
        folder = tmp_path / "output" / job
        folder.mkdir(parents=True)
        with (folder / "part-00000.jsonl.out").open("w") as f:
            f.writelines(line.replace('"R"', f'"R{i}"') for i in range(count))
    with duckdb.connect(config={"memory_limit": "1GB", "threads": 2, "preserve_insertion_order": False,
                                "temp_directory": str(tmp_path / "spill")}) as con:
        extra = {"output_files_to_load": output_files_to_load(con), "bedrock_output_uri": lambda: f"{tmp_path}/output/",
                 "bedrock_on_demand_uri": lambda: f"{tmp_path}/on-demand/"}
        sql = render_model("staging/bedrock/stg_bedrock__batch_outputs.sql", {}, {"bedrock_batch_jobs": "j"}, extra)
        assert con.execute(f"select count(*), count(distinct record_id) from ({sql})").fetchone() == (2 * count, count)
