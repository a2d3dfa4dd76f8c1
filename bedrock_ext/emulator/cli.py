"""`bedrock-ext emulator serve`: the local Bedrock + S3 endpoint as a standalone server."""

from __future__ import annotations

import argparse
import json
import signal
import threading
from pathlib import Path


def _cmd_serve(args: argparse.Namespace) -> int:
    from bedrock_ext.emulator.config import EmulatorConfig
    from bedrock_ext.emulator.server import Emulator

    config = EmulatorConfig.from_dict(json.loads(Path(args.config).read_text())) if args.config \
        else EmulatorConfig()
    emulator = Emulator(config, state_dir=Path(args.state_dir) if args.state_dir else None,
                        port=args.port)
    stop = threading.Event()
    # Ctrl-C and `kill` both stop it cleanly (state saved, state dir unlocked), also when it was
    # started in the background, where a shell leaves SIGINT ignored.
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    with emulator:
        print(f"Local Bedrock + S3 emulator (heuristic summarizer, not an LLM) at "
              f"{emulator.endpoint_url}; state dir: {args.state_dir or 'none (in memory)'}. "
              "Ctrl-C to stop.", flush=True)
        stop.wait()
    return 0


def add_emulator_commands(sub: argparse._SubParsersAction) -> None:
    emulator = sub.add_parser("emulator", help="The local Amazon Bedrock batch emulator.")
    commands = emulator.add_subparsers(dest="emulator_command", required=True)
    serve = commands.add_parser("serve", help="Serve Bedrock, Bedrock Runtime and S3 on 127.0.0.1.")
    serve.add_argument("--port", type=int, default=5055, help="port on 127.0.0.1 (0: any free)")
    serve.add_argument("--state-dir", help="keep S3 objects and jobs here across restarts")
    serve.add_argument("--config", help="JSON file with timings/quotas/faults settings")
    serve.set_defaults(handler=_cmd_serve)
