"""A task's evaluation block: its checks, and the request tasks it adds, the same in Python
(bedrock_ext.request.evaluation) and in the package's SQL (macro request_tasks)."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from bedrock_ext.errors import ConfigError
from bedrock_ext.pipeline.config import record_settings
from bedrock_ext.request.evaluation import (
    JUDGE_SCHEMA,
    REFERENCE,
    evaluation_of,
    judge_tasks,
    request_tasks,
    split_task_name,
)
from bedrock_ext.request.records import request_fingerprint
from tests.sql.package_sql import environment

SCHEMA = {"type": "object", "additionalProperties": False, "required": ["priority"],
          "properties": {"priority": {"type": "string", "enum": ["low", "high"]},
                         "urgency": {"type": "integer", "minimum": 1, "maximum": 5},
                         "reply": {"type": "string"}}}
TASK: dict[str, Any] = {
    "input": "tickets", "id_column": "ticket_id", "text_column": "body", "prompt_version": "p1",
    "prompt": {"system": "Triage the ticket.", "user": "Ticket: {body}"}, "answer_schema": SCHEMA,
    "evaluation": {"sample": {"size": 20, "stratify_by": "queue"}, "labels": {"priority": "true_priority"},
                   "candidates": {"micro": {"bedrock_model_id": "amazon.nova-micro-v1:0"},
                                  "terse": {"prompt": {"system": "Triage. Be brief."}, "prompt_version": "p2"}}}}
DEFAULTS = {"bedrock_model_id": "anthropic.claude-3-haiku-20240307-v1:0", "invocation_type": "InvokeModel",
            "max_tokens": 400, "temperature": None, "top_p": None, "top_k": None, "overlong_policy": "truncate"}


def test_each_candidate_is_a_task_with_its_overrides_over_the_tasks_spec() -> None:
    tasks = request_tasks({"triage": TASK})
    assert list(tasks) == ["triage", "triage:micro", "triage:terse"]
    micro, terse = tasks["triage:micro"], tasks["triage:terse"]
    assert micro["bedrock_model_id"] == "amazon.nova-micro-v1:0" and "evaluation" not in micro
    assert micro["prompt"] == TASK["prompt"]
    assert terse["prompt"] == {"system": "Triage. Be brief.", "user": "Ticket: {body}"}  # merged key by key
    assert terse["prompt_version"] == "p2" and terse["answer_schema"] == SCHEMA
    assert split_task_name("triage:terse") == ("triage", "terse") and split_task_name("triage") == ("triage", None)


def test_the_sql_macro_adds_the_same_tasks() -> None:
    _, context = environment({"triage": TASK, "plain": {k: v for k, v in TASK.items() if k != "evaluation"}}, {})
    assert context["bedrock_ext"].request_tasks() == request_tasks(
        {"triage": TASK, "plain": {k: v for k, v in TASK.items() if k != "evaluation"}})


def test_candidates_request_with_their_own_fingerprint_and_the_reference_with_the_tasks() -> None:
    tasks = request_tasks({"triage": TASK})
    prints = {name: request_fingerprint(record_settings(name, spec, DEFAULTS)) for name, spec in tasks.items()}
    assert len(set(prints.values())) == 3  # never the same request keys as the task's own rows
    plain = {k: v for k, v in TASK.items() if k != "evaluation"}
    assert prints["triage"] == request_fingerprint(record_settings("triage", plain, DEFAULTS))


@pytest.mark.parametrize(("change", "message"), [
    ({"candidates": {}}, "must name at least one candidate"),
    ({"candidates": {REFERENCE: {"max_tokens": 10}}}, "'reference' is the task's own answers"),
    ({"candidates": {"bad-name": {"max_tokens": 10}}}, "candidate name 'bad-name'"),
    ({"candidates": {"x": {"answer_schema": {}}}}, "candidates.x may set only"),
    ({"candidates": {"x": {"prompt": {"assistant": "hi"}}}}, "candidates.x.prompt may set system and user"),
    ({"labels": {"sentiment": "label_sentiment"}}, "'sentiment' is not a field of the answer schema"),
    ({"sample": {"size": 0}}, "sample.size must be a whole number of rows >= 1"),
    ({"sample": {"size": 10, "order": "x"}}, "sample must be"),
    ({"jury": {}}, "must be a mapping of candidates, judge, labels, sample"),
])
def test_a_bad_evaluation_block_is_refused_naming_the_value(change: dict[str, Any], message: str) -> None:
    spec = copy.deepcopy(TASK)
    spec["evaluation"].update(change)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        request_tasks({"triage": spec})


def test_an_evaluation_is_read_with_its_defaults() -> None:
    spec = copy.deepcopy(TASK)
    spec["evaluation"] = {"candidates": {"micro": {"bedrock_model_id": "amazon.nova-micro-v1:0"}}}
    evaluation = evaluation_of("triage", spec)
    assert evaluation is not None and evaluation.sample_size == 100 and evaluation.stratify_by is None
    assert evaluation_of("triage", {k: v for k, v in TASK.items() if k != "evaluation"}) is None


JUDGE = {"rubric": "A good reply is polite and names the next step.", "bedrock_model_id": "amazon.nova-lite-v1:0"}


def test_a_judge_is_a_request_task_of_its_own_the_same_in_python_and_sql() -> None:
    spec = copy.deepcopy(TASK)
    spec["evaluation"]["judge"] = JUDGE
    judges = judge_tasks({"triage": spec})
    assert list(judges) == ["triage:judge"]
    judge = judges["triage:judge"]
    assert judge["bedrock_model_id"] == "amazon.nova-lite-v1:0" and judge["answer_schema"] == JUDGE_SCHEMA
    assert judge["prompt"]["system"].startswith(JUDGE["rubric"]) and judge["prompt"]["user"] == "{judged}"
    assert evaluation_of("triage", spec).judge.fields == ("reply",)  # the text fields by default
    _, context = environment({"triage": spec}, {})
    assert context["bedrock_ext"].judge_tasks() == judges
    assert context["bedrock_ext"].task("triage:judge") == judge
    settings = record_settings("triage:judge", judge, DEFAULTS)
    assert settings.model_id == "amazon.nova-lite-v1:0" and settings.task.name == "triage:judge"


@pytest.mark.parametrize(("judge", "message"), [
    ({"bedrock_model_id": "amazon.nova-lite-v1:0"}, "judge must be {rubric"),
    ({"rubric": "x", "temperature": 0.5}, "judge must be {rubric"),
    ({"rubric": "x", "fields": ["sentiment"]}, "judge.fields must list answer fields"),
])
def test_a_bad_judge_is_refused(judge: dict[str, Any], message: str) -> None:
    spec = copy.deepcopy(TASK)
    spec["evaluation"]["judge"] = judge
    with pytest.raises(ConfigError, match=re.escape(message)):
        judge_tasks({"triage": spec})


def test_judge_is_not_a_candidate_name() -> None:
    spec = copy.deepcopy(TASK)
    spec["evaluation"]["candidates"] = {"judge": {"max_tokens": 10}}
    with pytest.raises(ConfigError, match="'judge' its judge"):
        request_tasks({"triage": spec})
