"""The ``bedrock-ext`` command: generate, estimate, jobs, report, emulator."""

from bedrock_ext.cli.main import main

__all__ = ["main"]
