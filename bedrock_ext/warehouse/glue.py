"""The glue between dbt and the build: each Python dbt model of the package is one call here.

- ``bedrock_batch_input`` → ``batch_input`` → ``pipeline.policy.export_pending``
- ``bedrock_batch_jobs`` → ``batch_jobs`` → ``pipeline.submission.submit_and_await``

Each entry parses the model's ``bedrock_ext`` config into one ``BatchConfig`` and turns dbt's
relations into FROM clauses; the decisions live in ``bedrock_ext.pipeline``.
"""

from __future__ import annotations

import logging
from typing import Any

import pyarrow as pa

from bedrock_ext.pipeline.config import BatchConfig
from bedrock_ext.pipeline.policy import Relations, export_pending
from bedrock_ext.pipeline.submission import submit_and_await
from bedrock_ext.request.catalog import Catalog
from bedrock_ext.request.record_sql import quoted

log = logging.getLogger("bedrock_ext.dbt")

RESULTS_MART, CANDIDATES_MART = "fct_bedrock_results", "fct_bedrock_candidate_results"
EVALUATION_ROWS = "fct_bedrock_evaluation_rows"  # what a judge reads (the previous build's)


def batch_input(session: Any, requests: Any, this: Any | None, settings: Any, models: Any = None, *,
                inputs: Any) -> pa.Table:
    """Export the requests of ``int_bedrock_requests`` not exported yet, and the retries due.

    ``this`` is the model's own table on incremental runs (None on the first build); ``models``
    is dim_bedrock_models (None: the packaged catalog); ``inputs`` is stg_bedrock_ext__input_rows,
    where the text of the requests sent is read.
    """
    config = BatchConfig.from_dbt(settings, _catalog(models))
    previous = previous_results(session, this) if this is not None else None
    evaluated = _beside(session, this, (EVALUATION_ROWS,)).get(EVALUATION_ROWS) if this is not None else None
    relations = Relations(requests=_from(requests), inputs=_from(inputs), exported=_name(this),
                          previous=previous, evaluated=evaluated)
    return export_pending(session, config, relations)


def batch_jobs(session: Any, inputs: Any, this: Any | None, settings: Any, models: Any = None) -> pa.Table:
    """Submit or re-attach to one job per exported shard; await them unless ``wait`` is false."""
    config = BatchConfig.from_dbt(settings, _catalog(models))
    return submit_and_await(session, config, _from(inputs), _name(this))


def _catalog(models: Any) -> Catalog | None:
    """The build's catalog (None: the packaged one), which the model's config is checked against."""
    return None if models is None else model_catalog(models)


def model_catalog(models: Any) -> Catalog:
    """The build's model catalog from dim_bedrock_models (the package's rows and the user's)."""
    return Catalog.from_rows(models.pl().to_dicts() if hasattr(models, "pl") else models)


def _name(this: Any | None) -> str | None:
    return None if this is None else str(this)


def _from(relation: Any) -> str:
    """A FROM clause for a dbt ref (a DuckDB relation) or a relation name (``dbt.this``)."""
    if hasattr(relation, "sql_query"):
        return f"({relation.sql_query()})"
    return str(relation)


def previous_results(session: Any, this: Any) -> str | None:
    """fct_bedrock_results as the previous build left it (with fct_bedrock_candidate_results, the
    evaluation candidates' rows, when there is one), beside this model (same database and schema,
    whatever the target's schema is), as a FROM clause; None when there is none yet. A ref would
    be a cycle: the marts depend on this model."""
    found = _beside(session, this, (RESULTS_MART, CANDIDATES_MART))
    if RESULTS_MART not in found:
        log.info("no %s.%s yet: no retries are due (first build, or the marts were never built)",
                 this.schema, RESULTS_MART)
        return None
    if CANDIDATES_MART not in found:
        return found[RESULTS_MART]
    return (f"(select * from {found[RESULTS_MART]} union all by name "
            f"select * exclude (base_task_name, candidate_name) from {found[CANDIDATES_MART]})")


def _beside(session: Any, this: Any, names: tuple[str, ...]) -> dict[str, str]:
    """The tables among ``names`` that exist beside ``this``, by name, as qualified names."""
    database, schema = str(this.database), str(this.schema)
    found = session.execute(
        "select table_name from information_schema.tables where table_catalog = ? and table_schema = ? "
        f"and table_name in ({', '.join('?' for _ in names)})", [database, schema, *names]).fetchall()
    return {name: ".".join(quoted(part) for part in (database, schema, name)) for (name,) in found}
