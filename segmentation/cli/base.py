"""What every CLI command shares: the registry, the parser class, logging and progress."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable

log = logging.getLogger("segmentation")
COMMANDS: dict[str, Callable] = {}


def command(name: str):
    """Register a command handler: ``(workspace, args) -> dict`` (the JSON result)."""
    def register(fn):
        COMMANDS[name] = fn
        return fn
    return register


class _Parser(argparse.ArgumentParser):
    """Usage errors as one ``error:`` line and exit status 2, like every other error."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def progress(fraction: float, message: str) -> None:
    """Progress of a long command, as a log line on standard error."""
    log.info("%3.0f%% %s", 100 * fraction, message)
