"""One build's decisions: the parsed settings (``config``), the build policy (``policy``: export,
on-demand or defer, retries due, the budget; ``submission``: the jobs), the export plan under the
quotas, the estimate and budget guard, S3 as the record, the per-prefix lock. Imports ``aws``,
``request`` and ``errors``."""
