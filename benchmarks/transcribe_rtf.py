"""File transcription speed: real-time factor on a 60 s file of real speech, next to PocketSphinx,
and batch speed on many files with one worker process against two.

The file is LJ Speech test utterances (../shared/data/ljspeech-part, the 35
held out of training) joined into 60 s. RTF = compute seconds / audio
seconds; lower is faster. Model load is timed separately. Both runtimes run:
PyTorch and ONNX Runtime (speech2text.backends.OnnxBackend, no torch). PocketSphinx 5
(PyPI, with its own bundled US English model) runs on the same samples when
installed (`pip install pocketsphinx`).

The batch table runs the whole `speech2text transcribe FILE... --format jsonl`
process on the 35 held-out utterances plus 25 FSDD recordings, with --jobs 1
(one process, 2 threads) and --jobs 2 (two workers, 1 thread each), and checks
that both give the same texts and word times.

    .venv/bin/python benchmarks/transcribe_rtf.py [--skip-single]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from speech2text.audio import SAMPLE_RATE, load_audio  # noqa: E402
from speech2text.decoding import DEFAULT_BEAM_SIZE  # noqa: E402
from speech2text.metrics import error_rates  # noqa: E402
from speech2text.text import normalize_text  # noqa: E402
from speech2text.transcribe import Transcriber  # noqa: E402

LJ = ROOT.parent / "shared" / "data" / "ljspeech-part"
FSDD = ROOT.parent / "shared" / "data" / "fsdd" / "recordings"
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


def single_file_rows(samples: np.ndarray) -> list:
    from speech2text.transcribe import load_transcriber

    rows = []
    variants = [  # (runtime, threads, quantize, decoder)
        ("torch", 1, None, "greedy"), ("torch", 2, None, "greedy"), ("torch", 1, "int8", "greedy"),
        ("torch", 2, "int8", "greedy"), ("torch", 2, None, "beam"), ("torch", 2, None, "lm"),
        ("onnx", 1, None, "greedy"), ("onnx", 2, None, "greedy"), ("onnx", 2, None, "lm"),
    ]
    for runtime, threads, quantize, decoder in variants:
        torch.set_num_threads(threads)

        def load():
            if runtime == "onnx":
                transcriber = load_transcriber(runtime="onnx", threads=threads)
            else:
                transcriber = Transcriber.from_pretrained(quantize=quantize)
            if decoder == "lm":
                transcriber.load_language_model()
            return transcriber

        load_s, transcriber = best_of(load)
        seconds, transcript = best_of(lambda: transcriber.transcribe(samples, decoder=decoder))
        search = {"beam": f" (beam {DEFAULT_BEAM_SIZE['beam']})",
                  "lm": f" (3-gram, beam {DEFAULT_BEAM_SIZE['lm']})"}.get(decoder, "")
        name = (f"speech2text {runtime} {decoder}{search}{', int8' if quantize else ''}, "
                f"{threads} thread{'s' if threads > 1 else ''}")
        rows.append((name, load_s, seconds, transcript.text))
    sphinx = pocketsphinx_row(samples)
    if sphinx:
        rows.append(("PocketSphinx 5 (en-us)", *sphinx))
    return rows


def batch_rows() -> list[dict]:
    """Whole-process runs of the CLI on many files, one worker against two."""
    utterances = [LJ / "wavs" / f"{line.split('|')[0]}.flac" for line in (LJ / "metadata.csv").read_text().splitlines()[-HELDOUT:]]
    files = [*utterances, *sorted(FSDD.glob("*_theo_1*.flac"))[:25]]
    audio_s = sum(len(load_audio(f)) for f in files) / SAMPLE_RATE
    rows = []
    for runtime in ("onnx", "torch"):
        outputs = []
        for jobs in (1, 2):
            command = [sys.executable, "-m", "speech2text", "transcribe", *map(str, files), "--format", "jsonl",
                       "--runtime", runtime, "--threads", "2", "--jobs", str(jobs)]
            started = time.perf_counter()
            result = subprocess.run(command, capture_output=True, check=True)
            seconds = time.perf_counter() - started
            # Texts and word times; the last digits of scores and confidences follow torch's thread count.
            records = [json.loads(line) for line in result.stdout.splitlines()]
            outputs.append([(r["text"], [(w["start_s"], w["end_s"]) for w in r["words"]]) for r in records])
            rows.append({"runtime": runtime, "jobs": jobs, "files": len(files), "audio_s": audio_s, "seconds": seconds})
        rows[-1]["same_output"] = rows[-2]["same_output"] = outputs[0] == outputs[1]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-single", action="store_true", help="only the batch table")
    args = parser.parse_args()
    results: dict = {"single": [], "batch": []}
    if not args.skip_single:
        samples, reference = sixty_seconds_of_speech()
        duration_s = len(samples) / SAMPLE_RATE
        print(f"{duration_s:.1f} s of LJ Speech (held-out utterances), best of {REPEATS} for speech2text\n")
        print("| system | load s | transcribe s | RTF (load excluded) | RTF (load included) | WER |")
        print("|---|---|---|---|---|---|")
        for name, load_s, seconds, text in single_file_rows(samples):
            wer = error_rates([reference], [normalize_text(text)])["wer"]
            print(f"| {name} | {load_s:.2f} | {seconds:.2f} | {seconds / duration_s:.4f} | {(seconds + load_s) / duration_s:.4f} | {100 * wer:.1f}% |")
            results["single"].append({"system": name, "load_s": load_s, "transcribe_s": seconds, "audio_s": duration_s, "wer": wer})
    results["batch"] = batch_rows()
    first = results["batch"][0]
    print(f"\nBatch: `speech2text transcribe` on {first['files']} files ({first['audio_s']:.0f} s of audio), whole process, "
          "2 cores, LM beam search\n")
    print("| runtime | --jobs | seconds | files/s | RTF | speed-up | same words and times |\n|---|---:|---:|---:|---:|---:|---|")
    for row in results["batch"]:
        one = next(r for r in results["batch"] if r["runtime"] == row["runtime"] and r["jobs"] == 1)
        print(f"| {row['runtime']} | {row['jobs']} | {row['seconds']:.1f} | {row['files'] / row['seconds']:.2f} | "
              f"{row['seconds'] / row['audio_s']:.4f} | {one['seconds'] / row['seconds']:.2f}x | {'yes' if row['same_output'] else 'NO'} |")
    (ROOT / "benchmarks" / "results").mkdir(exist_ok=True)
    (ROOT / "benchmarks" / "results" / "transcribe_rtf.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
