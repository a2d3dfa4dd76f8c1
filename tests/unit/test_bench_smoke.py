"""`make bench` keeps running: its export and parse steps at a few hundred rows (a few seconds).
The figures are not checked here (benchmarks are not timed tests); that the script and its child
processes still import and print each line is."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_benchmark_script_runs_its_export_and_parse_steps() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench.py"), "--rows", "200", "--runs", "1",
                           "--only", "export,parse"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    for line in ("export 200 records: ours", "export without the upload", "parse 200 output lines",
                 "parse, the S3 reads alone", "bench: done"):
        assert line in done.stdout, done.stdout
