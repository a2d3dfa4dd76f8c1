"""The dbt-duckdb plugin, at the path profiles name (``module: bedrock_ext.plugin``).

The code is ``bedrock_ext.warehouse.plugin``; this module keeps the public path stable.
"""

from bedrock_ext.warehouse.plugin import Plugin

__all__ = ["Plugin"]
