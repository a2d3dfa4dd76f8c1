"""Model families as data (issue 26): one definition per language, held equal here. The Python
side (bedrock_ext.request.families) gives the export and the checks a family's id prefixes and parameter
ranges; the package's response_shapes macro gives the output staging where each body shape keeps
the answer, the tokens, the stop reason and the request's parameters; the emulator keeps its own
copy as the wire contract, and answers every family's shape the staging reads."""

from __future__ import annotations

import json

import pytest

from bedrock_ext.emulator import model_families as emulator_families
from bedrock_ext.request import families
from bedrock_ext.request.catalog import packaged
from bedrock_ext.request.records import RecordSettings, model_family, model_input
from tests.example import EXAMPLE_TASK
from tests.sql.package_sql import environment


def test_the_sql_shapes_are_the_python_shapes() -> None:
    macros = environment({}, {})[1]["bedrock_ext"]
    sql = [(s["name"], {k: list(v) for k, v in s["paths"].items()}) for s in macros.response_shapes()]
    py = [(s.name, {k: list(v) for k, v in s.paths.items()}) for s in families.RESPONSE_SHAPES]
    assert sql == py
    layout = macros.output_line_paths()
    for field in families.FIELDS:  # the staging's coalesce order is the shapes' order
        assert [layout["paths"][i - 1] for i in layout["at"][field]] == families.paths_of(field)


@pytest.mark.parametrize("model_id", sorted(packaged().entries))
def test_every_catalog_model_has_one_family(model_id: str) -> None:
    family = families.family_of(model_id)
    assert family.name == model_family(f"us.{model_id}") == model_family(model_id)
    expected = next((f for f, p in (("anthropic", "anthropic."), ("nova", "amazon.nova"), ("llama", "meta.llama"))
                     if model_id.startswith(p)), "other")
    assert family.name == expected


@pytest.mark.parametrize(("model_id", "invocation_type"), [
    ("anthropic.claude-3-haiku-20240307-v1:0", "InvokeModel"), ("amazon.nova-lite-v1:0", "InvokeModel"),
    ("meta.llama3-1-8b-instruct-v1:0", "InvokeModel"), ("anthropic.claude-3-haiku-20240307-v1:0", "Converse"),
    ("amazon.nova-lite-v1:0", "Converse"), ("openai.gpt-oss-20b-1:0", "Converse")])
def test_every_body_the_export_builds_is_answered_where_the_staging_reads(model_id: str, invocation_type: str) -> None:
    """The emulator's answer to each family's body carries its text and tokens at paths of the shapes."""
    settings = RecordSettings(task=EXAMPLE_TASK, model_id=model_id, invocation_type=invocation_type,  # type: ignore[arg-type]
                              temperature=0.2, top_p=None)
    line = {"modelInput": model_input(settings, "Agent: hello\nCustomer: my bill is wrong"),
            "modelOutput": emulator_families.invoke(model_id, model_input(settings, "Agent: hi\nCustomer: bill"),
                                                     invocation_type)}
    found = {field: [_get(line, p) for p in families.paths_of(field)] for field in ("answer_text", "input_tokens",
                                                                                   "output_tokens", "max_tokens")}
    assert all(any(v is not None for v in values) for values in found.values()), json.dumps(found)[:400]


def _get(value: object, path: str) -> object:
    for part in path.removeprefix("$.").replace("]", "").split("."):
        name, _, index = part.partition("[")
        value = value.get(name) if isinstance(value, dict) else None
        if index and isinstance(value, list):
            value = value[int(index)] if len(value) > int(index) else None
    return value
