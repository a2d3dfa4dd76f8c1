"""LLM batch inference (Amazon Bedrock) from inside dbt-duckdb.

The version has one source, ``pyproject.toml``; it is read here from the installed metadata, and
the SQL reads it through ``bedrock_ext_version()`` (fct_bedrock_results' logic version).
"""

from importlib.metadata import version

__version__ = version("bedrock-ext")
