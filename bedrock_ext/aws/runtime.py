"""What the dbt-duckdb plugin sets up for one dbt process: the target's mode and endpoints.

The Python dbt models read it with :func:`current` (they run in the same process as the plugin).
"""

from __future__ import annotations

from dataclasses import dataclass

from bedrock_ext.aws.client import AwsSettings
from bedrock_ext.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class Runtime:
    mode: str  # "local" (embedded emulator) or "aws"
    aws: AwsSettings
    s3_scope: tuple[str, ...] = ()  # the S3 URL prefixes DuckDB's secret is limited to (empty: all)
    # When the rows this dbt command writes begin (ISO 8601): the data tests of a build check only
    # them (their `where`); '-infinity' when the command writes no model (`dbt test`: every row).
    changes_since: str = "-infinity"

    @property
    def endpoint_label(self) -> str:
        """Which service runs the jobs, as shown in dim_batch_jobs and the demo."""
        if self.mode == "local":
            return f"local emulator at {self.aws.endpoint_url} (heuristic summarizer, not an LLM)"
        where = self.aws.endpoint_url or f"bedrock.{self.aws.region}.amazonaws.com"
        return f"Amazon Bedrock ({where})"

    @property
    def is_local(self) -> bool:
        return self.mode == "local"


_current: Runtime | None = None


def activate(runtime: Runtime) -> None:
    global _current
    _current = runtime


def current() -> Runtime:
    if _current is None:
        raise ConfigError("bedrock_ext is not configured: add the plugin `bedrock_ext.plugin` to the "
                          "target in profiles.yml (see README, 'Targets')")
    return _current
