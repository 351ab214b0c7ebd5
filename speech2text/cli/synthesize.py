"""`speech2text synthesize`: text in, a multi-voice speech corpus out."""

from __future__ import annotations


def add_parsers(sub) -> None:
    pass
