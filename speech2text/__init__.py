"""speech2text: offline speech recognition with a bidirectional LSTM trained with CTC.

    >>> from speech2text import Transcriber
    >>> Transcriber.from_pretrained().transcribe("question.wav").text

Names are imported on first use, so `speech2text --help` does not pay for torch.
`speech2text.__version__` is the installed package's version (pyproject.toml holds the one number).
"""

from importlib import import_module

_EXPORTS = {
    "SAMPLE_RATE": "audio",
    "AudioError": "audio",
    "load_audio": "audio",
    "CheckpointError": "errors",
    "Speech2TextError": "errors",
    "Word": "decoding",
    "Transcriber": "transcribe",
    "load_transcriber": "transcribe",
    "Transcript": "transcribe",
}
__all__ = sorted(_EXPORTS)


def package_version() -> str:
    """The version of the installed speech2text distribution (read on demand: importlib.metadata costs ~35 ms)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("speech2text")
    except PackageNotFoundError:  # a source tree on sys.path, never installed
        return "unknown (not installed)"


def __getattr__(name: str):
    if name == "__version__":
        return package_version()
    if name not in _EXPORTS:
        raise AttributeError(f"module 'speech2text' has no attribute {name!r}")
    return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
