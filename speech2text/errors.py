"""Error text shared by the CLI and the library (no heavy imports: the CLI's start-up uses it)."""

from __future__ import annotations


def describe_os_error(error: OSError) -> str:
    """One line for an OSError: 'path: reason' when it names a file, else its message."""
    return f"{error.filename}: {error.strerror}" if error.filename else str(error)
