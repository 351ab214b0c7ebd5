"""Live dictation latency: end of speech -> final line, and the partial-result cadence.

Two queries with a pause are played two ways, in one run:
  * "file": the streaming core fed at real-time pace in this process;
  * "virtual mic": `speech2text listen` in a subprocess, capturing from a
    PulseAudio virtual microphone (tests/virtual_microphone.py) while paplay
    plays the file; this includes the sound server's capture latency.
Latency is measured from the moment the end of speech plus the configured
end-of-speech silence has been captured, so it excludes that silence, which
is a setting, not a cost.

    .venv/bin/python benchmarks/listen_latency.py
"""

from __future__ import annotations

import json
import selectors
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from speech2text.stream import StreamingRecognizer, file_chunks  # noqa: E402
from speech2text.transcribe import Transcriber  # noqa: E402
from speech2text.vad import VadConfig  # noqa: E402
from virtual_microphone import virtual_microphone  # noqa: E402

QUERIES = ["what_is_your_name.wav", "set_a_timer.wav", "weather_in_paris.flac"]
LEAD_S, PAUSE_S = 0.5, 1.5


def build_input(path: Path) -> list[float]:
    """Write the queries with pauses to `path`; return each query's end of speech in seconds."""
    pieces, ends, t = [np.zeros(int(LEAD_S * 16000), np.float32)], [], LEAD_S
    for name in QUERIES:
        samples, _ = soundfile.read(ROOT / "assets" / name, dtype="float32")
        voiced = np.flatnonzero(np.abs(samples) > 0.01)
        ends.append(t + (voiced[-1] + 1) / 16000)
        pieces += [samples, np.zeros(int(PAUSE_S * 16000), np.float32)]
        t += len(samples) / 16000 + PAUSE_S
    soundfile.write(path, np.concatenate(pieces), 16000)
    return ends


def in_process(path: Path, ends: list[float], vad: VadConfig, partial_ms: int):
    transcriber = Transcriber.from_pretrained()
    transcriber.load_language_model()  # as `speech2text listen` does before it starts listening
    recognizer = StreamingRecognizer(transcriber, vad=vad, partial_interval_ms=partial_ms)
    started = time.monotonic()
    finals, partials = [], []
    for chunk in file_chunks(path, realtime=True):
        for event in recognizer.feed(chunk):
            now = time.monotonic() - started
            (finals if event.type == "final" else partials).append((now, event))
    latencies = [1000 * (now - (end + vad.end_silence_ms / 1000)) for (now, _), end in zip(finals, ends)]
    return latencies, [e.text for _, e in finals], partials


def virtual_mic(path: Path, ends: list[float], vad: VadConfig, partial_ms: int):
    with virtual_microphone() as env:
        listener = subprocess.Popen(
            [sys.executable, "-m", "speech2text", "listen", "--format", "jsonl", "--end-silence-ms", str(vad.end_silence_ms),
             "--partial-interval-ms", str(partial_ms)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0,
        )
        while b"listening on" not in listener.stderr.readline():
            pass
        selector = selectors.DefaultSelector()
        selector.register(listener.stdout, selectors.EVENT_READ)
        player = subprocess.Popen(["paplay", str(path)], env=env)
        played_at = time.monotonic()
        finals, partials = [], []
        while len(finals) < len(ends) and time.monotonic() - played_at < 30:
            if selector.select(timeout=0.1):
                event = json.loads(listener.stdout.readline())
                now = time.monotonic() - played_at
                (finals if event["type"] == "final" else partials).append((now, event))
        player.wait()
        listener.send_signal(signal.SIGINT)
        listener.communicate(timeout=30)
    latencies = [1000 * (now - (end + vad.end_silence_ms / 1000)) for (now, _), end in zip(finals, ends)]
    return latencies, [e["text"] for _, e in finals], partials


def decode_ms(partials) -> str:
    """Median and max compute time of the partial decodes (the cost of partial results)."""
    costs = [e.decode_ms if hasattr(e, "decode_ms") else e["decode_ms"] for _, e in partials]
    return f"{statistics.median(costs):.0f} / {max(costs):.0f}" if costs else "-"


def cadence(partials) -> str:
    times = [now for now, _ in partials]
    gaps = [b - a for a, b in zip(times, times[1:]) if b - a < 1.0]
    return f"{1000 * statistics.median(gaps):.0f}" if gaps else "-"


def main() -> None:
    vad, partial_ms = VadConfig(), 300
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "queries.wav"
        ends = build_input(path)
        rows = [("file, in process", *in_process(path, ends, vad, partial_ms)),
                ("virtual mic, CLI", *virtual_mic(path, ends, vad, partial_ms))]
    print(f"end-of-speech silence {vad.end_silence_ms} ms (excluded), partial interval {partial_ms} ms, {len(ends)} queries\n")
    print("| path | latency median ms | latency max ms | partials | partial gap median ms | partial decode median / max ms | finals |")
    print("|---|---|---|---|---|---|---|")
    for name, latencies, texts, partials in rows:
        print(f"| {name} | {statistics.median(latencies):.0f} | {max(latencies):.0f} | {len(partials)} | {cadence(partials)} "
              f"| {decode_ms(partials)} | {' / '.join(texts)} |")
    result = {name: {"latency_ms": latencies, "finals": texts, "partials": len(partials)} for name, latencies, texts, partials in rows}
    (ROOT / "benchmarks" / "results").mkdir(exist_ok=True)
    (ROOT / "benchmarks" / "results" / "listen_latency.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
