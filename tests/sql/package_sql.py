"""The package's SQL models and macros rendered outside dbt, by plain Jinja with dbt's few
context functions stood in (``return``, ``var``, ``ref``, ``adapter.quote``, ``modules.re``), so
tests and benchmarks run exactly the package's SQL on DuckDB without a dbt build."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jinja2

PACKAGE = Path(__file__).resolve().parents[2] / "dbt_package"
MACRO_FILES = ("bedrock_s3.sql", "tasks.sql", "answers.sql", "cost.sql", "families.sql", "evaluation.sql")


class _Return(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


def _raise_return(value: Any) -> None:
    raise _Return(value)


def _raise_error(message: str) -> None:
    raise ValueError(message)


def _wrap(macro: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return macro(*args, **kwargs)
        except _Return as r:
            return r.value
    return call


def environment(tasks: Mapping[str, Any], refs: Mapping[str, str], extra: Mapping[str, Any] | None = None
                ) -> tuple[jinja2.Environment, dict[str, Any]]:
    """A Jinja environment and context where the package's macros work: ``tasks`` is the
    bedrock_ext_tasks var, ``refs`` maps a model name to the SQL relation it reads."""
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    namespace = SimpleNamespace()
    context: dict[str, Any] = {
        "return": _raise_return, "bedrock_ext": namespace, "execute": True, "tojson": json.dumps,
        "var": lambda name, default=None: dict(tasks) if name == "bedrock_ext_tasks" else default,
        "ref": lambda *names: refs[names[-1]], "adapter": SimpleNamespace(quote=lambda n: f'"{n}"'),
        "modules": SimpleNamespace(re=re), "exceptions": SimpleNamespace(raise_compiler_error=_raise_error),
        "is_incremental": lambda: False,
        **(extra or {}),
    }
    text = "\n".join((PACKAGE / "macros" / name).read_text() for name in MACRO_FILES)
    module = env.from_string(text).make_module(context)
    for name in dir(module):
        if not name.startswith("__"):
            value = getattr(module, name)
            if callable(value):
                setattr(namespace, name, _wrap(value))
                context.setdefault(name, getattr(namespace, name))
    for name, value in (extra or {}).items():  # a stand-in replaces the package's macro everywhere
        if hasattr(namespace, name):
            setattr(namespace, name, value)
    return env, context


def output_files_to_load(con: Any) -> Callable[..., list[str]]:
    """The package's macro of that name, on ``con``: outside dbt there are no jobs nor loaded
    files to filter by, so every matching file is loaded (the package's own read_output_files and
    read_output_lines read them)."""
    def macro(patterns: list[str], jobs: Any = None, uri_column: str | None = None) -> list[str]:
        return sorted(f for p in patterns for (f,) in con.execute("select file from glob(?)", [p]).fetchall())
    return macro


def render_model(path: str, tasks: Mapping[str, Any], refs: Mapping[str, str],
                 extra: Mapping[str, Any] | None = None) -> str:
    """The SQL of ``dbt_package/models/<path>``."""
    env, context = environment(tasks, refs, extra)
    return env.from_string((PACKAGE / "models" / path).read_text()).render(**context)
