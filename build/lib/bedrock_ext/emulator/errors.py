"""Errors of the emulator process itself (not AWS error responses, which are in exceptions.py).

The emulator shares no code with the client side, so it has its own base class."""

from __future__ import annotations


class EmulatorError(Exception):
    """The emulator cannot start or cannot use its state dir; the message says what to do."""
