"""Each setting is declared once: its default and meaning in the package's dbt_project.yml
`vars:`. The batch models' config anchor maps the same names to the Python side (BatchConfig);
these checks keep the three lists from drifting apart."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from bedrock_ext.config import BatchConfig, settings_fields

PACKAGE = Path(__file__).resolve().parents[2] / "dbt_package"
SQL_ONLY = {"model_catalog_overrides"}  # read by dim_bedrock_models; Python reads that table


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


def test_the_package_defaults_are_a_valid_config() -> None:
    defaults = {k: v for k, v in _package_vars().items() if k not in SQL_ONLY}
    rendered = {k: ("None" if v is None else str(v)) for k, v in defaults.items()}
    rendered.update(job_tags="{}", vpc_subnet_ids="[]", vpc_security_group_ids="[]", dbt_project_name="p",
                    application_inference_profiles="{}")
    example = yaml.safe_load((PACKAGE.parent / "dbt_project" / "dbt_project.yml").read_text())["vars"]
    rendered["bedrock_ext_tasks"] = json.dumps(example["bedrock_ext_tasks"])  # the package declares none
    config = BatchConfig.from_dbt(rendered)
    assert config.max_attempts == 3 and config.wait is True and config.top_p is None


def test_the_example_project_sets_only_names_the_package_declares() -> None:
    example = yaml.safe_load((PACKAGE.parent / "dbt_project" / "dbt_project.yml").read_text())
    assert set(example["vars"]["bedrock_ext"]) <= set(_package_vars())
    assert "bedrock_ext_tasks" in _package_vars()  # declared (empty) in the package, set globally by the project
