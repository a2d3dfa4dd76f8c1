"""The dbt and DuckDB side: the dbt-duckdb plugin, the glue the Python dbt models call (one entry
per model), the SQL functions the package's SQL calls, httpfs and the S3 secret, publishing for BI.
Imports ``pipeline``, ``aws``, ``request`` and ``errors``."""
