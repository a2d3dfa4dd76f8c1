"""One build's decisions: the parsed settings (``config``), the build policy (``policy``: export,
on-demand or defer, retries due, the budget; ``submission``: the jobs), the export plan under the
quotas, the estimate and budget guard, the project's S3 prefix as one build holds it
(``prefix``: the scope, the lock on this machine, S3 as the record), the lease across machines. Imports ``aws``,
``request`` and ``errors``."""
