"""The one error tree of bedrock_ext: every error a user can hit is a BedrockExtError."""

from __future__ import annotations


class BedrockExtError(Exception):
    """Base class: a problem the user can act on; the message names the bad value and the fix."""


class ConfigError(BedrockExtError):
    """A configuration value (dbt var, profile key, env var, CLI flag) is missing or invalid."""


class EmulatorError(BedrockExtError):
    """The local emulator could not start, or was asked for something it cannot do."""
