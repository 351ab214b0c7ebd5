"""Writing transcripts: plain text, JSON, JSON lines, SubRip (srt) and WebVTT subtitles."""

from __future__ import annotations

import json

from .decoding import Word

FORMATS = ("txt", "json", "jsonl", "srt", "vtt")
MAX_CUE_S = 6.0
MAX_CUE_WORDS = 12
CUE_GAP_S = 1.0


def cues(words: list[Word]) -> list[list[Word]]:
    """Group words into subtitle cues: a new cue after a pause, or when a cue grows too long."""
    groups: list[list[Word]] = []
    for word in words:
        current = groups[-1] if groups else None
        if (
            current is None
            or word.start_s - current[-1].end_s > CUE_GAP_S
            or word.end_s - current[0].start_s > MAX_CUE_S
            or len(current) >= MAX_CUE_WORDS
        ):
            groups.append([word])
        else:
            current.append(word)
    return groups


def timestamp(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def subtitles(words: list[Word], fmt: str) -> str:
    separator = "," if fmt == "srt" else "."
    blocks = []
    for number, cue in enumerate(cues(words), start=1):
        timing = f"{timestamp(cue[0].start_s, separator)} --> {timestamp(cue[-1].end_s, separator)}"
        text = " ".join(w.text for w in cue)
        blocks.append(f"{number}\n{timing}\n{text}\n" if fmt == "srt" else f"{timing}\n{text}\n")
    body = "\n".join(blocks)
    return body if fmt == "srt" else "WEBVTT\n\n" + body


def render(name: str, transcript, fmt: str) -> str:
    """The text of one transcript in `fmt`; `name` labels the input in json and jsonl."""
    if fmt in ("srt", "vtt"):
        return subtitles(transcript.words, fmt)
    if fmt == "txt":
        return transcript.text + "\n"
    record = {"audio": name, **transcript.to_dict()}
    return json.dumps(record, indent=2 if fmt == "json" else None) + "\n"
