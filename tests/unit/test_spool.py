"""The emulator's ResultSpool (a running job's output lines on disk): the counters of the first n
records, and each file's lines in Bedrock-like output order, for all or some of the records."""

from __future__ import annotations

import random

from bedrock_ext.emulator.spool import ResultSpool


def test_counts_and_lines_of_the_first_n_records() -> None:
    rng = random.Random(7)
    records = [(f"part-{i // 40}.jsonl", f'{{"recordId":"R{i}","n":"{"é" * rng.randint(0, 30)}"}}',
                rng.random() < 0.3, rng.randint(1, 900), rng.randint(1, 90)) for i in range(100)]
    spool = ResultSpool("job12345678a")
    for record in records:
        spool.add(*record)
    assert len(spool) == 100 and spool.file_names == ["part-0.jsonl", "part-1.jsonl", "part-2.jsonl"]
    for n in (0, 1, 39, 40, 77, 100):
        done = records[:n]
        counts = spool.counts(n)
        assert (counts.processed, counts.errors, counts.input_tokens, counts.output_tokens) == (
            n, sum(r[2] for r in done), sum(r[3] for r in done), sum(r[4] for r in done))
        for name in spool.file_names:
            lines = list(spool.lines(n, name))
            assert sorted(lines) == sorted((r[1] + "\n").encode() for r in done if r[0] == name)
    whole = [line for name in spool.file_names for line in spool.lines(100, name)]
    assert whole != [(r[1] + "\n").encode() for r in records]  # not the input order
    assert whole == [line for name in spool.file_names for line in spool.lines(100, name)]  # deterministic
    spool.close()
