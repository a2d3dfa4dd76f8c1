"""`bedrock-ext` command line: generate data, run the local emulator, inspect and steer jobs."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bedrock_ext.errors import BedrockExtError

Handler = Callable[[argparse.Namespace], int]


def _cmd_generate(args: argparse.Namespace) -> int:
    from bedrock_ext.transcripts.generator import GenerateSpec, write_dataset

    spec = GenerateSpec(
        rows=args.rows, seed=args.seed, chunk_rows=args.chunk_rows, adversarial=args.adversarial
    )
    written = write_dataset(spec, Path(args.out), fmt=args.format, workers=args.workers)
    logging.getLogger("bedrock_ext").info("wrote %d transcripts to %s", written, args.out)
    return 0


def _add_generate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="Write deterministic synthetic call transcripts.")
    p.add_argument("--rows", type=_non_negative_int, default=2000, help="rows to generate")
    p.add_argument("--seed", type=int, default=7, help="RNG seed (same seed, same data)")
    p.add_argument("--out", default="dbt_project/data/transcripts.parquet", help="output file")
    p.add_argument("--format", choices=("parquet", "csv", "jsonl"), default="parquet")
    p.add_argument("--chunk-rows", type=_positive_int, default=50_000, help="rows per chunk")
    p.add_argument("--workers", type=_positive_int, default=1, help="generator processes")
    p.add_argument(
        "--adversarial", action="store_true",
        help="append hostile rows: empty/null text, over-context, emoji, control chars, "
        "duplicate call ids, prompt injection, ...",
    )
    p.set_defaults(handler=_cmd_generate)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bedrock-ext", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_generate(sub)
    from bedrock_ext.emulator.cli import add_emulator_commands

    add_emulator_commands(sub)
    from bedrock_ext.cli.jobs import add_jobs_commands

    add_jobs_commands(sub)
    from bedrock_ext.report.cli import add_report_command

    add_report_command(sub)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("bedrock-ext")
    except PackageNotFoundError:
        return "unknown (not installed)"


def user_error(err: BaseException) -> str | None:
    """One line naming the problem and the fix, for the errors a user can act on; None otherwise."""
    from bedrock_ext.aws.client import explain_aws_error

    if isinstance(err, BedrockExtError):
        return str(err)
    explained = explain_aws_error(err)
    if explained is not None:
        return explained
    import duckdb

    if isinstance(err, duckdb.Error):
        return f"DuckDB: {str(err).splitlines()[0]}"
    if type(err).__name__ == "EmulatorError":  # the emulator's own error tree (it shares no code)
        return str(err)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.debug:  # botocore's INFO lines ("Found credentials in ...") are not ours to show
        for noisy in ("botocore", "boto3", "urllib3", "s3transfer"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    handler: Handler = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except Exception as err:
        message = user_error(err)
        if message is None or args.debug:
            raise
        print(f"bedrock-ext: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
