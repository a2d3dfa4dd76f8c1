"""An answer schema that no answer can satisfy is refused before anything is paid (issue 27),
with one line naming the property and the rule."""

from __future__ import annotations

import copy

import pytest

from bedrock_ext.errors import ConfigError
from bedrock_ext.request.task import Task
from tests.dbt.tasks_examples import TICKET_TRIAGE


def _with(**changes: object) -> dict:
    spec = copy.deepcopy(TICKET_TRIAGE)
    schema = spec["answer_schema"]
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        node = schema
        for part in parents:
            node = node[part]
        node[leaf] = value
    return spec


@pytest.mark.parametrize(("changes", "message"), [
    ({"properties__reply_draft__minLength": 2000}, "property 'reply_draft': minLength 2000 is above maxLength 400"),
    ({"properties__reply_draft__maxLength": -5}, "property 'reply_draft': maxLength must be a whole number >= 0, got -5"),
    ({"properties__reply_draft__maxLength": 2.5}, "maxLength must be a whole number >= 0, got 2.5"),
    ({"properties__urgency__enum": ["low", "high"]}, "property 'urgency': enum value 'low' is not an integer"),
    ({"properties__urgency__enum": [1, 9]}, "property 'urgency': enum value 9 is outside minimum/maximum"),
    ({"properties__urgency__minimum": 6}, "property 'urgency': minimum 6 is above maximum 5"),
    ({"properties__urgency__maximum": "five"}, "property 'urgency': maximum must be a number, got 'five'"),
    ({"properties__category__enum": ["billing", 3]}, "property 'category': enum value 3 is not a string"),
    ({"properties__category__maxLength": 5}, "enum value 'billing' is outside minLength/maxLength"),
    ({"required": ["category", "zzz"]}, "required names 'zzz', which is not one of its properties"),
    ({"type": "array"}, "must be a JSON Schema with type: object"),
    ({"properties__category__pattern": "^[a-z]+$"}, "['pattern'] not supported for type string"),
])
def test_an_impossible_schema_is_refused_naming_the_property_and_rule(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=None) as exc:
        Task.from_spec("ticket_triage", _with(**changes))
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_a_schema_that_is_not_a_mapping_is_refused() -> None:
    spec = {**TICKET_TRIAGE, "answer_schema": "not a schema"}
    with pytest.raises(ConfigError, match="answer_schema is not valid JSON"):
        Task.from_spec("ticket_triage", spec)


def test_the_example_schemas_pass() -> None:
    assert Task.from_spec("ticket_triage", TICKET_TRIAGE).properties
