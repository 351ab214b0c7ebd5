"""What every subcommand shares: exit codes, the error line, argument types."""

from __future__ import annotations

import argparse
import os
import sys

from ..errors import describe_os_error

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# A small LSTM gains little past 4 threads, and more would crowd out the rest of a laptop.
DEFAULT_THREADS = min(4, os.cpu_count() or 1)


def error(message: str) -> None:
    print(f"speech2text: error: {message}", file=sys.stderr)


def os_error(e: OSError) -> None:
    error(describe_os_error(e))


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def float_list(text: str) -> list[float]:
    try:
        return [float(item) for item in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, not {text!r}") from None


def hotword(text: str) -> tuple[str, float]:
    """'turn on the kitchen lights:5' -> ('turn on the kitchen lights', 5.0); the bonus defaults to 10."""
    from ..text import normalize_text

    phrase, _, bonus = text.rpartition(":") if ":" in text else (text, "", "10")
    try:
        value = float(bonus)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected PHRASE or PHRASE:BONUS, not {text!r}") from None
    if not normalize_text(phrase):
        raise argparse.ArgumentTypeError(f"the hotword {text!r} has no words")
    return normalize_text(phrase), value
