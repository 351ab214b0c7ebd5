"""The errors a user can cause, and their text (no heavy imports: the CLI's start-up uses this module).

Every such error derives from Speech2TextError: its message is one line that names what was wrong, and
`speech2text`'s entry point prints it and exits with `exit_code`, so no subcommand repeats that block.
Each module's error class also derives from the built-in it always was (ValueError, RuntimeError), so
callers that caught those still do.
"""

from __future__ import annotations


class Speech2TextError(Exception):
    """A failure the user can fix: bad input, a missing file or package. Never a bug."""

    exit_code = 1


class UsageError(Speech2TextError, ValueError):
    """A flag or argument that cannot work (an empty --words file): exit code 2, as argparse's own errors."""

    exit_code = 2


class InputError(Speech2TextError, ValueError):
    """An input that cannot be read as it is: a stream past its size limit, a pipe nothing writes to."""


class OutputError(Speech2TextError, ValueError):
    """An output that would destroy an input or cannot be written."""


class CheckpointError(Speech2TextError, ValueError):
    """A model file that is missing, corrupt, or not a speech2text model (here, not in checkpoint.py, so that the
    torch-free ONNX runtime raises the same error)."""


def describe_os_error(error: OSError) -> str:
    """One line for an OSError: 'path: reason' when it names a file, else its message."""
    return f"{error.filename}: {error.strerror}" if error.filename else str(error)
