"""A Transcript as the body of an OpenAI-style transcription response, in each `response_format`."""

from __future__ import annotations

import math

from ..formats import cues, subtitles
from ..transcribe import Transcript

RESPONSE_FORMATS = ("json", "text", "srt", "vtt", "verbose_json")
MEDIA_TYPES = {"json": "application/json", "verbose_json": "application/json", "text": "text/plain",
               "srt": "application/x-subrip", "vtt": "text/vtt"}


def _segment(number: int, words: list) -> dict:
    """One subtitle cue (speech2text.formats.cues) as a verbose_json segment.

    avg_logprob is the mean natural log of the words' confidences. Whisper's seek,
    compression_ratio and no_speech_prob have no counterpart here and are left out.
    """
    log_confidences = [math.log(max(w.confidence, 1e-10)) for w in words]
    mean_log = sum(log_confidences) / len(words)
    return {
        "id": number, "start": words[0].start_s, "end": words[-1].end_s, "text": " ".join(w.text for w in words),
        "tokens": [], "temperature": 0.0, "avg_logprob": round(mean_log, 4), "confidence": round(math.exp(mean_log), 4),
    }


def verbose_json(transcript: Transcript) -> dict:
    return {
        "task": "transcribe",
        "language": "english",
        "duration": transcript.duration_s,
        "text": transcript.text,
        "segments": [_segment(number, cue) for number, cue in enumerate(cues(transcript.words))],
        "words": [{"word": w.text, "start": w.start_s, "end": w.end_s, "confidence": w.confidence}
                  for w in transcript.words],
    }


def render(transcript: Transcript, response_format: str) -> dict | str:
    """A JSON-ready dict for json and verbose_json, else the text body."""
    if response_format == "json":
        return {"text": transcript.text}
    if response_format == "verbose_json":
        return verbose_json(transcript)
    if response_format == "text":
        return transcript.text + "\n"
    return subtitles(transcript.words, response_format)
