"""Footprint: peak memory against audio length, model load time and CLI cold start.

Peak RSS is the whole `speech2text transcribe FILE --format srt` process, read from
the kernel's accounting of that child (os.wait4), for 1, 10 and 60 minutes of real
speech (LJ Speech utterances looped with 0.5 s pauses, written as 16 kHz FLAC).
A recognizer whose memory grows with length shows it here.

    .venv/bin/python benchmarks/footprint.py [--minutes 1 10 60]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from speech2text.audio import SAMPLE_RATE, load_audio  # noqa: E402

LJ = ROOT.parent / "shared" / "data" / "ljspeech-part" / "wavs"
CLI = [sys.executable, "-m", "speech2text"]


def write_speech(path: Path, minutes: float) -> None:
    """Loop the LJ Speech slice into a FLAC file of `minutes`, one utterance at a time."""
    target = int(minutes * 60 * SAMPLE_RATE)
    pause = np.zeros(SAMPLE_RATE // 2, np.float32)
    written = 0
    with soundfile.SoundFile(path, "w", SAMPLE_RATE, 1, subtype="PCM_16") as out:
        for wav in itertools.cycle(sorted(LJ.glob("*.flac"))):
            piece = np.concatenate([load_audio(wav), pause])[: target - written]
            out.write(piece)
            written += len(piece)
            if written >= target:
                return


def run_measured(command: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MB, exit code) of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - started, usage.ru_maxrss / 1024, child.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 10, 60])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    results: dict = {"threads": args.threads, "memory": [], "startup": []}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write_speech(tmp / "short.flac", 3 / 60)
        startup = [
            ("`speech2text --help`", [*CLI, "--help"]),
            ("`speech2text transcribe` a 3 s file (whole process)", [*CLI, "transcribe", str(tmp / "short.flac")]),
        ]
        for name, command in startup:
            best = min(run_measured(command)[0] for _ in range(3))
            results["startup"].append({"what": name, "seconds": best})
        baseline = run_measured([sys.executable, "-c", "import torch"])
        results["torch_import_rss_mb"] = baseline[1]
        load = subprocess.run(
            [sys.executable, "-c", "import time, torch; from speech2text import Transcriber; Transcriber.from_pretrained();"
             "t = time.perf_counter(); Transcriber.from_pretrained(); print(time.perf_counter() - t)"],
            capture_output=True, text=True, check=True,
        )
        results["startup"].append({"what": "model load, in process (`Transcriber.from_pretrained()`)", "seconds": float(load.stdout)})

        for minutes in args.minutes:
            path = tmp / f"{minutes:g}min.flac"
            write_speech(path, minutes)
            command = [*CLI, "transcribe", str(path), "--format", "srt", "--threads", str(args.threads), "--output-dir", str(tmp / "out")]
            seconds, peak_mb, code = run_measured(command)
            if code != 0:
                sys.exit(f"transcribe failed on {path} (exit {code})")
            results["memory"].append({"minutes": minutes, "peak_rss_mb": peak_mb, "seconds": seconds, "rtf": seconds / (minutes * 60)})
            path.unlink()

    print("| what | seconds |\n|---|---:|")
    for row in results["startup"]:
        print(f"| {row['what']} | {row['seconds']:.2f} |")
    print(f"\n`speech2text transcribe FILE --format srt` (LM beam search), {args.threads} threads, whole process;"
          f" `python -c 'import torch'` alone peaks at {results['torch_import_rss_mb']:.0f} MB:\n")
    print("| audio | peak RSS | wall time | RTF (process, load included) |\n|---|---:|---:|---:|")
    for row in results["memory"]:
        print(f"| {row['minutes']:g} min | {row['peak_rss_mb']:.0f} MB | {row['seconds']:.1f} s | {row['rtf']:.4f} |")
    out = ROOT / "benchmarks" / "results" / "footprint.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
