"""Deterministic synthetic call-center transcripts, generated in chunks and streamed to disk.

Each chunk is produced from its own seed (``(seed, chunk_index)``), so the output is identical for
the same arguments whatever the number of worker processes, and memory is bounded by a few chunks.
"""

from __future__ import annotations

import datetime as dt
import math
import multiprocessing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bedrock_ext.transcripts import phrases as P
from bedrock_ext.transcripts.adversarial import adversarial_rows

FORMATS = ("parquet", "csv", "jsonl")
BASE_TIME = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC)
SECONDS_PER_TURN = 14

SCHEMA = pa.schema(
    [
        ("call_id", pa.string()),
        ("customer_id", pa.string()),
        ("agent_id", pa.string()),
        ("queue", pa.string()),
        ("started_at", pa.timestamp("us", tz="UTC")),
        ("duration_s", pa.int32()),
        ("transcript", pa.string()),
        ("label_intent", pa.string()),
        ("label_resolution", pa.string()),
        ("label_sentiment_start", pa.string()),
        ("label_sentiment_end", pa.string()),
        ("label_adversarial_kind", pa.string()),
    ]
)


@dataclass(frozen=True, kw_only=True)
class GenerateSpec:
    """What to generate: row count, seed, chunking and the optional adversarial rows."""

    rows: int
    seed: int = 7
    chunk_rows: int = 50_000
    adversarial: bool = False


def _turn_counts(rng: np.random.Generator, n: int) -> np.ndarray:
    """Pairs of middle turns per call: mostly short, a long tail of very long calls."""
    short = rng.integers(1, 9, size=n)
    long_tail = rng.integers(20, 160, size=n)
    return np.where(rng.random(n) < 0.04, long_tail, short)


def _pick(options: tuple[str, ...], r: int) -> str:
    return options[r % len(options)]


def _render_call(r: list[int], fillers: list[int], tones: list[int], fields: dict[str, str]) -> str:
    """One transcript from a row of random ints ``r`` and the per-turn phrase indexes."""
    intent = P.INTENTS[r[0]]
    resolution = P.RESOLUTIONS[r[1]]
    start, end = P.CUSTOMER_TONE[P.SENTIMENTS[r[2]]], P.CUSTOMER_TONE[P.SENTIMENTS[r[3]]]
    lines = [
        _pick(P.GREETINGS, r[4]).format(**fields),
        _pick(P.OPENINGS[intent], r[5]).format(**fields),
        _pick(P.AGENT_PROBES[intent], r[6]).format(**fields),
    ]
    half = len(fillers) // 2
    for i, (f, t) in enumerate(zip(fillers, tones, strict=True)):
        lines.append(P.AGENT_FILLER[f])
        lines.append((start if i < half else end)[t])
    lines.append(_pick(P.ENDINGS[resolution], r[7]))
    lines.append("Agent: Next I will " + _pick(P.ACTIONS[intent], r[8]).format(**fields) + ".")
    if resolution != "resolved":
        lines.append("Agent: I will also " + _pick(P.FOLLOW_UPS, r[9]).format(**fields) + ".")
    lines.append(_pick(P.CLOSINGS[P.SENTIMENTS[r[3]]], r[10]))
    return "\n".join(lines)


def generate_chunk(seed: int, chunk_index: int, first_row: int, n: int) -> pa.Table:
    """Generate rows ``first_row .. first_row + n - 1`` deterministically."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, chunk_index]))
    bounds = [len(P.INTENTS), len(P.RESOLUTIONS), 3, 3] + [1 << 16] * 7
    ints = np.column_stack([rng.integers(0, b, size=n) for b in bounds])
    turns = _turn_counts(rng, n)
    middle = rng.integers(0, 1 << 16, size=int(turns.sum()))
    fillers = (middle % len(P.AGENT_FILLER)).tolist()
    tones = ((middle >> 3) % len(P.CUSTOMER_TONE["neutral"])).tolist()
    offsets = np.concatenate([[0], np.cumsum(turns)]).tolist()
    amounts = rng.integers(12, 480, size=n)
    orders = rng.integers(100_000, 999_999, size=n)
    agents = rng.integers(0, 400, size=n)
    customers = rng.integers(0, 2_000_000, size=n)
    gaps = rng.integers(5, 70, size=n)
    texts = []
    for row, amount, order, agent, a, b in zip(
        ints.tolist(), amounts.tolist(), orders.tolist(), agents.tolist(),
        offsets[:-1], offsets[1:], strict=True,
    ):
        fields = {
            "agent": _pick(P.AGENT_NAMES, agent),
            "amount": f"{amount}.{order % 100:02d}",
            "order": f"NW-{order}",
            "day": _pick(P.DAYS, row[9] >> 4),
        }
        texts.append(_render_call(row, fillers[a:b], tones[a:b], fields))
    ids = np.arange(first_row, first_row + n)
    started = BASE_TIME.timestamp() + ids * 37.0 + gaps
    intent_names = np.array(P.INTENTS)[ints[:, 0]]
    return pa.table(
        {
            "call_id": [f"CALL-{i:09d}" for i in ids],
            "customer_id": [f"CUST-{c:07d}" for c in customers],
            "agent_id": [f"AG{a:04d}" for a in agents],
            "queue": [P.QUEUES[x] for x in intent_names],
            "started_at": pa.array((started * 1e6).astype("int64"), pa.timestamp("us", tz="UTC")),
            "duration_s": (30 + (2 * turns + 5) * SECONDS_PER_TURN + gaps).astype("int32"),
            "transcript": texts,
            "label_intent": intent_names,
            "label_resolution": np.array(P.RESOLUTIONS)[ints[:, 1]],
            "label_sentiment_start": np.array(P.SENTIMENTS)[ints[:, 2]],
            "label_sentiment_end": np.array(P.SENTIMENTS)[ints[:, 3]],
            "label_adversarial_kind": pa.nulls(n, pa.string()),
        },
        schema=SCHEMA,
    )


def _chunk_args(spec: GenerateSpec) -> list[tuple[int, int, int, int]]:
    count = math.ceil(spec.rows / spec.chunk_rows) if spec.rows else 0
    return [
        (spec.seed, k, k * spec.chunk_rows, min(spec.chunk_rows, spec.rows - k * spec.chunk_rows))
        for k in range(count)
    ]


def _star_generate(args: tuple[int, int, int, int]) -> pa.Table:
    return generate_chunk(*args)


def iter_chunks(spec: GenerateSpec, workers: int = 1) -> Iterator[pa.Table]:
    """Yield the data set chunk by chunk, in order; adversarial rows come last."""
    args = _chunk_args(spec)
    if workers > 1 and len(args) > 1:
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(workers) as pool:
            yield from pool.imap(_star_generate, args)
    else:
        yield from map(_star_generate, args)
    if spec.adversarial:
        yield pa.Table.from_pylist(adversarial_rows(spec), schema=SCHEMA)


def write_dataset(spec: GenerateSpec, out: Path, fmt: str = "parquet", workers: int = 1) -> int:
    """Write the data set to ``out`` as parquet, csv or jsonl; returns the row count written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use parquet, csv or jsonl")
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    if fmt == "parquet":
        with pq.ParquetWriter(out, SCHEMA, compression="zstd") as writer:
            for table in iter_chunks(spec, workers):
                writer.write_table(table)
                written += table.num_rows
        return written
    import polars as pl

    with out.open("wb") as fh:
        for k, table in enumerate(iter_chunks(spec, workers)):
            frame = pl.DataFrame(pl.from_arrow(table))
            if fmt == "csv":
                frame.write_csv(fh, include_header=k == 0)
            else:
                frame.write_ndjson(fh)
            written += table.num_rows
    return written
