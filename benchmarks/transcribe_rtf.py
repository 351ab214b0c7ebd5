"""File transcription speed: real-time factor on a 60 s file of real speech, next to PocketSphinx.

The file is LJ Speech test utterances (../shared/data/ljspeech-part, the 35
held out of training) joined into 60 s. RTF = compute seconds / audio
seconds; lower is faster. Model load is timed separately. PocketSphinx 5
(PyPI, with its own bundled US English model) runs on the same samples when
installed (`pip install pocketsphinx`).

    .venv/bin/python benchmarks/transcribe_rtf.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from speech2text.audio import SAMPLE_RATE, load_audio  # noqa: E402
from speech2text.metrics import error_rates  # noqa: E402
from speech2text.text import normalize_text  # noqa: E402
from speech2text.transcribe import Transcriber  # noqa: E402

LJ = ROOT.parent / "shared" / "data" / "ljspeech-part"
HELDOUT = 35
REPEATS = 3


def sixty_seconds_of_speech() -> tuple[np.ndarray, str]:
    """Whole held-out utterances, joined until they last at least 60 s, and their joined text."""
    pieces, texts = [], []
    for line in (LJ / "metadata.csv").read_text().splitlines()[-HELDOUT:]:
        utterance_id, _, text = line.split("|")
        pieces.append(load_audio(LJ / "wavs" / f"{utterance_id}.flac"))
        texts.append(normalize_text(text))
        if sum(map(len, pieces)) >= 60 * SAMPLE_RATE:
            break
    return np.concatenate(pieces), " ".join(texts)


def best_of(fn, repeats: int = REPEATS) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


def pocketsphinx_row(samples: np.ndarray):
    try:
        from pocketsphinx import Decoder
    except ImportError:
        return None
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    load_s, decoder = best_of(lambda: Decoder(samprate=SAMPLE_RATE), repeats=1)

    def run():
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        return decoder.hyp().hypstr if decoder.hyp() else ""

    seconds, text = best_of(run, repeats=1)
    return load_s, seconds, text


def main() -> None:
    samples, reference = sixty_seconds_of_speech()
    duration_s = len(samples) / SAMPLE_RATE
    rows = []
    variants = [  # (threads, quantize, decoder)
        (1, None, "greedy"), (2, None, "greedy"), (1, "int8", "greedy"), (2, "int8", "greedy"), (2, None, "beam"),
        (2, None, "lm"),
    ]
    for threads, quantize, decoder in variants:
        torch.set_num_threads(threads)
        def load():
            transcriber = Transcriber.from_pretrained(quantize=quantize)
            if decoder == "lm":
                transcriber.load_language_model()
            return transcriber

        load_s, transcriber = best_of(load)
        seconds, transcript = best_of(lambda: transcriber.transcribe(samples, decoder=decoder))
        name = f"speech2text {decoder}{' (beam 8)' if decoder == 'beam' else ' (3-gram, beam 32)' if decoder == 'lm' else ''}{', int8' if quantize else ''}, {threads} thread{'s' if threads > 1 else ''}"
        rows.append((name, load_s, seconds, transcript.text))
    sphinx = pocketsphinx_row(samples)
    if sphinx:
        rows.append(("PocketSphinx 5 (en-us)", *sphinx))
    print(f"{duration_s:.1f} s of LJ Speech (held-out utterances), best of {REPEATS} for speech2text\n")
    print("| system | load s | transcribe s | RTF (load excluded) | RTF (load included) | WER |")
    print("|---|---|---|---|---|---|")
    results = []
    for name, load_s, seconds, text in rows:
        wer = error_rates([reference], [normalize_text(text)])["wer"]
        print(f"| {name} | {load_s:.2f} | {seconds:.2f} | {seconds / duration_s:.4f} | {(seconds + load_s) / duration_s:.4f} | {100 * wer:.1f}% |")
        results.append({"system": name, "load_s": load_s, "transcribe_s": seconds, "audio_s": duration_s, "wer": wer})
    (ROOT / "benchmarks" / "results").mkdir(exist_ok=True)
    (ROOT / "benchmarks" / "results" / "transcribe_rtf.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
