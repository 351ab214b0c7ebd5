"""speech2text: offline speech recognition with a bidirectional LSTM trained with CTC.

    >>> from speech2text import Transcriber
    >>> Transcriber.from_pretrained().transcribe("question.wav").text

Names are imported on first use, so `speech2text --help` does not pay for torch.
"""

from importlib import import_module

__version__ = "0.1.0"

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


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'speech2text' has no attribute {name!r}")
    return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
