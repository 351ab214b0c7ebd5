"""Load on `speech2text serve`: 1, 2, 4 and 8 concurrent clients posting files and streaming them, a soak of
8 streams, and `speech2text transcribe --jobs N` on the same files for comparison.

One real server process on a free loopback port (the ONNX runtime and the bundled LM, as it ships). Every
part is a fixed amount of work with a time limit (MAX_LEVEL_S a level, --soak-s the soak):

- Uploads: for each client count, every client posts assets/*.wav and *.flac in turn to
  POST /v1/audio/transcriptions, each request once its previous one is answered, until the level's
  --requests are done. Latency is one request, upload to answer, including any wait in the server's queue.
  A 503 (queue full) is counted and the client waits its Retry-After; any other status, or a text that
  differs from the file's text when posted alone, is an error.
- Streams: the same, over WS /v1/listen: each stream sends one file as PCM16 at 16 kHz in 100 ms frames
  (the page's frame), paced at --pace times real time (1: each frame leaves when a microphone would have
  delivered it; 0: as fast as the socket takes them), then {"type": "end"}. Latency is from that end of
  audio to the last final event. A 1013 close (the server holds --max-streams) is counted like a 503; an
  error event, another close code, or finals whose text differs from the file streamed alone is an error.
  "send lag" is how far the slowest frame left behind its pace (TCP pushing back on a stream that the
  server decodes slower than real time).
- transcribe --jobs N: the whole `speech2text transcribe --format json --jobs N` process on as many files
  as a level has requests, timed from start to exit (so model loading and worker start-up are in it,
  as a user waits for them; the server's model was loaded before its levels started). A text that differs
  from the server's is an error.
- Soak: --soak-streams (8) streams held open together for --soak-s, each looping the files over its
  one socket at --pace, each file followed by 1 s of silence so that the VAD ends every file's utterance
  by itself. Latency is from the end of a file's speech to its final (so it holds the VAD's 600 ms of
  silence). Each socket's finals must be those of the same audio streamed alone, unpaced, after the soak
  (run_soak says why not those of each file alone). The server's RSS is read at the start (1 s in, every
  socket open), the middle and the end (before the sockets close).

Server peak RSS is the largest VmRSS of the server process sampled every 20 ms (VmHWM, the peak since start,
is printed too). The CLI runs after the server has stopped, so the two never share the CPUs.

    .venv/bin/python benchmarks/serve_load.py [--clients 1 2 4 8] [--requests 24] [--streams 24] [--pace 1]
        [--jobs 1 2 4] [--soak-s 60] [--soak-streams 8] [--workers 2] [--threads 2] [--queue-size 16]

A quick check: --clients 1 2 --requests 4 --streams 4 --jobs 1 --soak-s 5
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Self

import httpx
import numpy as np
import soundfile
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, WebSocketException

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from speech2text.audio import SAMPLE_RATE
from speech2text.cli.common import DEFAULT_THREADS

FILES = sorted(p for p in (ROOT / "assets").iterdir() if p.suffix in (".wav", ".flac"))
MAX_LEVEL_S = 180  # no new request or stream after this long in one level
STREAM_TIMEOUT_S = 60  # the most a stream waits for its finals after its end of audio
CLI_TIMEOUT_S = 300
RSS_SAMPLE_S = 0.02
FRAME_S = 0.1  # what the page sends: 100 ms of PCM16 a frame
SOAK_GAP_S = 1.0  # silence after each file in the soak: longer than the VAD's end_silence_ms (600)
NORMAL_CLOSE, TRY_AGAIN_LATER = 1000, 1013


def status_kb(pid: int, field_name: str) -> int:
    match = re.search(rf"^{field_name}:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.MULTILINE)
    return int(match.group(1))


class Server:
    """`speech2text serve --port 0` in a child process, until stop()."""

    def __init__(self, workers: int, threads: int, queue_size: int, max_streams: int):
        command = [sys.executable, "-m", "speech2text", "serve", "--port", "0", "--workers", str(workers),
                   "--threads", str(threads), "--queue-size", str(queue_size), "--max-streams", str(max_streams)]
        self.process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
        for line in self.process.stderr:
            if match := re.search(r"serving on (http://\S+)", line):
                self.url = match.group(1)
                break
        else:
            raise SystemExit(f"the server did not start: {self.process.wait()}")
        self.ws_url = self.url.replace("http://", "ws://", 1) + "/v1/listen"
        threading.Thread(target=lambda: self.process.stderr.read(), daemon=True).start()  # keep the pipe drained

    def rss_mb(self) -> float:
        return status_kb(self.process.pid, "VmRSS") / 1024

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(60)


class PeakRss:
    """The largest VmRSS of a process while the `with` block runs, sampled every RSS_SAMPLE_S."""

    def __init__(self, pid: int):
        self.pid, self.peak_kb, self._stop = pid, 0, threading.Event()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, status_kb(self.pid, "VmRSS"))
            self._stop.wait(RSS_SAMPLE_S)

    def __enter__(self) -> Self:
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Level:
    """One client count of uploads or of streams."""

    clients: int
    wall_s: float = 0.0
    latencies_s: list[float] = field(default_factory=list)
    audio_s: float = 0.0
    busy: int = 0  # refused for load: 503 for an upload, a 1013 close for a stream
    errors: int = 0
    peak_rss_mb: float = 0.0
    send_lag_max_s: float = 0.0  # streams only


# Uploads


def post(http: httpx.Client, url: str, path: Path) -> httpx.Response:
    with open(path, "rb") as audio:
        return http.post(f"{url}/v1/audio/transcriptions", files={"file": (path.name, audio)}, timeout=300)


def rotated(index: int) -> itertools.cycle:
    """The files in turn, client `index` starting at its own one, so that the clients do not all send the same."""
    return itertools.cycle(FILES[index % len(FILES):] + FILES[:index % len(FILES)])


def run_upload_level(server: Server, clients: int, requests: int, expected: dict[str, str],
                     durations: dict[str, float]) -> Level:
    level, lock = Level(clients), threading.Lock()
    tickets = iter(range(requests))  # taken under the lock: the level's requests, in all
    deadline = time.monotonic() + MAX_LEVEL_S

    def client(index: int) -> None:
        files = rotated(index)
        with httpx.Client() as http:
            while time.monotonic() < deadline:
                with lock:
                    if next(tickets, None) is None:
                        return
                path = next(files)
                started = time.monotonic()
                try:
                    response = post(http, server.url, path)
                except httpx.HTTPError:
                    with lock:
                        level.errors += 1
                    continue
                latency_s = time.monotonic() - started
                with lock:
                    if response.status_code == 503:
                        level.busy += 1
                    elif response.status_code != 200 or response.json()["text"] != expected[path.name]:
                        level.errors += 1
                    else:
                        level.latencies_s.append(latency_s)
                        level.audio_s += durations[path.name]
                if response.status_code == 503:
                    time.sleep(int(response.headers.get("retry-after", "1")))

    with PeakRss(server.process.pid) as rss, ThreadPoolExecutor(clients) as pool:
        started = time.monotonic()
        list(pool.map(client, range(clients)))
        level.wall_s = time.monotonic() - started
    level.peak_rss_mb = rss.peak_kb / 1024
    return level


# Streams


def pcm16(path: Path) -> bytes:
    """A file as the little-endian 16-bit mono PCM at 16 kHz that a client streams."""
    samples, rate = soundfile.read(str(path), dtype="float32")
    assert rate == SAMPLE_RATE and samples.ndim == 1, f"{path.name}: the assets are 16 kHz mono"
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


async def send_paced(ws, pcm: bytes, pace: float, clock_start: float) -> float:
    """Send `pcm` in FRAME_S frames, frame k when its audio would have ended (clock_start + end_s / pace;
    pace 0: at once). The most any frame left behind that time, in seconds."""
    frame_bytes, lag_s = int(FRAME_S * SAMPLE_RATE) * 2, 0.0
    for start in range(0, len(pcm), frame_bytes):
        end_s = min(start + frame_bytes, len(pcm)) / 2 / SAMPLE_RATE
        due = clock_start + end_s / pace if pace else time.monotonic()
        if (wait_s := due - time.monotonic()) > 0:
            await asyncio.sleep(wait_s)
        await ws.send(pcm[start:start + frame_bytes])
        lag_s = max(lag_s, time.monotonic() - due)
    return lag_s


@dataclass
class StreamRun:
    """What one socket got: its final events (text, arrival on the monotonic clock), how it ended."""

    finals: list[tuple[str, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # error events and broken connections
    close_code: int | None = None
    send_lag_s: float = 0.0
    audio_ends: list[float] = field(default_factory=list)  # when each file's last frame was sent


async def stream(url: str, pieces: list[bytes], pace: float, until: float | None = None) -> StreamRun:
    """Over one socket, the pieces in turn (all of them, or cycling until the monotonic time `until`), then
    {"type": "end"}; every event until the server closes the socket."""
    run = StreamRun()

    async def receive(ws) -> None:
        try:
            async for message in ws:
                event = json.loads(message)
                if event["type"] == "final":
                    run.finals.append((event["text"], time.monotonic()))
                elif event["type"] == "error":
                    run.errors.append(event["message"])
        except ConnectionClosed as closed:
            run.errors.append(f"connection closed: {closed}")

    try:
        async with connect(url, max_size=None, open_timeout=30) as ws:
            reading = asyncio.create_task(receive(ws))
            clock, sent_s = time.monotonic(), 0.0
            for piece in itertools.cycle(pieces) if until else pieces:
                if until and time.monotonic() >= until:
                    break
                lag_s = await send_paced(ws, piece, pace, clock + sent_s / pace if pace else 0.0)
                run.send_lag_s = max(run.send_lag_s, lag_s)
                run.audio_ends.append(time.monotonic())
                sent_s += len(piece) / 2 / SAMPLE_RATE
            await ws.send(json.dumps({"type": "end"}))
            await asyncio.wait_for(reading, STREAM_TIMEOUT_S)
            run.close_code = ws.close_code
    except (OSError, TimeoutError, WebSocketException) as failed:
        run.errors.append(f"{type(failed).__name__}: {failed}")
    return run


def joined(run: StreamRun) -> str:
    return " ".join(text for text, _ in run.finals if text)


def stream_failed(run: StreamRun) -> bool:
    return bool(run.errors) or run.close_code != NORMAL_CLOSE


async def stream_level(server: Server, clients: int, streams: int, pace: float, pcm: dict[str, bytes],
                       expected: dict[str, str], durations: dict[str, float]) -> Level:
    level = Level(clients)
    tickets = iter(range(streams))  # one event loop: no lock needed
    deadline = time.monotonic() + MAX_LEVEL_S

    async def client(index: int) -> None:
        files = rotated(index)
        while time.monotonic() < deadline and next(tickets, None) is not None:
            path = next(files)
            run = await stream(server.ws_url, [pcm[path.name]], pace)
            level.send_lag_max_s = max(level.send_lag_max_s, run.send_lag_s)
            if run.close_code == TRY_AGAIN_LATER:
                level.busy += 1
                await asyncio.sleep(0.5)
            elif stream_failed(run) or joined(run) != expected[path.name]:
                level.errors += 1
            else:  # the last final after the end of audio; one that came earlier had no wait at all
                level.latencies_s.append(max(0.0, run.finals[-1][1] - run.audio_ends[-1]))
                level.audio_s += durations[path.name]

    started = time.monotonic()
    await asyncio.gather(*(client(i) for i in range(clients)))
    level.wall_s = time.monotonic() - started
    return level


def run_stream_level(server: Server, *args) -> Level:
    with PeakRss(server.process.pid) as rss:
        level = asyncio.run(stream_level(server, *args))
    level.peak_rss_mb = rss.peak_kb / 1024
    return level


# Soak


@dataclass
class Soak:
    streams: int
    target_s: float
    wall_s: float = 0.0
    audio_s: float = 0.0
    files_sent: int = 0
    finals: int = 0
    texts_differing: int = 0  # from the same socket's audio streamed alone
    texts_differing_from_file: int = 0  # from the file streamed alone (informative: see run_soak)
    differing_examples: list[dict] = field(default_factory=list)  # the first few of texts_differing
    errors: int = 0
    latencies_s: list[float] = field(default_factory=list)
    send_lag_max_s: float = 0.0
    rss_mb: dict[str, float] = field(default_factory=dict)  # start, middle, end
    peak_rss_mb: float = 0.0


async def hold(server: Server, result: Soak, pieces: list[list[bytes]], pace: float) -> list[StreamRun]:
    """One socket a list of pieces, all at once, each socket cycling its pieces until result.target_s."""
    started = time.monotonic()
    until = started + result.target_s

    async def sample_rss() -> None:
        await asyncio.sleep(1.0)  # every socket is open and streaming by now
        result.rss_mb["start"] = server.rss_mb()
        await asyncio.sleep(max(0.0, started + result.target_s / 2 - time.monotonic()))
        result.rss_mb["middle"] = server.rss_mb()
        await asyncio.sleep(max(0.0, until - time.monotonic()))
        result.rss_mb["end"] = server.rss_mb()

    sampling = asyncio.create_task(sample_rss())
    runs = await asyncio.gather(*(stream(server.ws_url, own, pace, until) for own in pieces))
    await sampling
    result.wall_s = time.monotonic() - started
    return runs


def run_soak(server: Server, streams: int, soak_s: float, pace: float, pcm: dict[str, bytes],
             expected: dict[str, str], durations: dict[str, float]) -> Soak:
    """`streams` sockets at once, each looping the files (with SOAK_GAP_S of silence after each) for soak_s.

    Each socket's finals are then checked against the very audio it sent, streamed alone (one socket,
    unpaced) after the soak: a file's text depends on where the stream's 30 ms VAD frames fall in it and on
    the silence around it, so a file in the middle of a stream can decode differently from the file alone
    (texts_differing_from_file) with nothing wrong under load.
    """
    result = Soak(streams, soak_s)
    gap = bytes(2 * int(SOAK_GAP_S * SAMPLE_RATE))
    order = [[p.name for p in itertools.islice(rotated(i), len(FILES))] for i in range(streams)]
    with PeakRss(server.process.pid) as rss:
        runs = asyncio.run(hold(server, result, [[pcm[n] + gap for n in names] for names in order], pace))
    result.peak_rss_mb = rss.peak_kb / 1024
    sent = [list(itertools.islice(itertools.cycle(names), len(run.audio_ends))) for names, run in zip(order, runs)]
    # The sockets with one order sent prefixes of one sequence, and a file's final is out before the next
    # file starts, so one stream of the longest sequence of each order is the reference of them all.
    longest: dict[tuple[str, ...], list[str]] = {}
    for names, files in zip(order, sent):
        longest[tuple(names)] = max(longest.get(tuple(names), []), files, key=len)
    reference = {key: [t for t, _ in asyncio.run(stream(server.ws_url, [pcm[n] + gap for n in files], 0)).finals]
                 for key, files in longest.items()}
    for names, files, run in zip(order, sent, runs):
        result.files_sent += len(files)
        result.finals += len(run.finals)
        result.errors += len(run.errors) + (run.close_code != NORMAL_CLOSE)
        result.send_lag_max_s = max(result.send_lag_max_s, run.send_lag_s)
        texts = [text for text, _ in run.finals]
        alone = reference[tuple(names)][:len(files)]
        for name, got, want in itertools.zip_longest(files, texts, alone):
            result.texts_differing_from_file += name is None or got != expected[name]
            if got != want:
                result.texts_differing += 1
                if len(result.differing_examples) < 10:
                    result.differing_examples.append({"file": name, "alone": want, "got": got})
        result.audio_s += sum(durations[n] + SOAK_GAP_S for n in files)
        if len(run.finals) == len(files):  # one final per file: its wait after the end of the file's speech
            gap_s = SOAK_GAP_S / pace if pace else 0.0
            result.latencies_s += [max(0.0, at - (ended - gap_s)) for (_, at), ended in zip(run.finals, run.audio_ends)]
    return result


# transcribe --jobs


@dataclass
class CliRun:
    jobs: int
    files: int
    wall_s: float
    audio_s: float
    errors: int


def run_cli(jobs: int, count: int, threads: int, expected: dict[str, str], durations: dict[str, float]) -> CliRun:
    paths = list(itertools.islice(itertools.cycle(FILES), count))
    command = [sys.executable, "-m", "speech2text", "transcribe", "--format", "json", "--jobs", str(jobs),
               "--threads", str(threads), *map(str, paths)]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=CLI_TIMEOUT_S, check=False)
    wall_s = time.monotonic() - started
    records = json.loads(done.stdout) if done.returncode == 0 else []
    records = [records] if isinstance(records, dict) else records
    texts = {(i, Path(r["audio"]).name): r["text"] for i, r in enumerate(records)}
    errors = sum(texts.get((i, p.name)) != expected[p.name] for i, p in enumerate(paths))
    return CliRun(jobs, len(paths), wall_s, sum(durations[p.name] for p in paths), errors)


# Report


def percentile_ms(values_s: list[float], q: int) -> str:
    if not values_s:
        return "-"
    if len(values_s) == 1:
        return f"{1000 * values_s[0]:.0f}"
    return f"{1000 * statistics.quantiles(values_s, n=100, method='inclusive')[q - 1]:.0f}"


def latency_cells(values_s: list[float]) -> str:
    return " | ".join(percentile_ms(values_s, q) for q in (50, 95, 99))


def print_tables(args, durations, uploads, streams, cli, soak_result, peak_since_start_mb, load) -> None:
    pace = f"{args.pace:g}x real time" if args.pace else "as fast as the socket takes them"
    print(f"server: --workers {args.workers} --threads {args.threads} --queue-size {args.queue_size} "
          f"--max-streams {max(args.soak_streams, *args.clients)}, {os.cpu_count()} CPUs, load average "
          f"{load:.1f} at the end; files: {', '.join(f'{n} ({d:.2f} s)' for n, d in durations.items())}\n")
    print(f"Uploads (POST /v1/audio/transcriptions, {args.requests} requests a level), and `transcribe --jobs N` "
          f"on as many files (--threads {args.threads}; its wall time includes start-up and model loading)\n")
    print("| clients | requests ok | wall s | requests/s | audio s/s | latency p50 ms | p95 ms | p99 ms | 503s "
          "| errors | server peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for lv in uploads:
        print(f"| {lv.clients} | {len(lv.latencies_s)} | {lv.wall_s:.1f} | {len(lv.latencies_s) / lv.wall_s:.2f} "
              f"| {lv.audio_s / lv.wall_s:.2f} | {latency_cells(lv.latencies_s)} | {lv.busy} | {lv.errors} "
              f"| {lv.peak_rss_mb:.0f} |")
    for run in cli:
        print(f"| `transcribe --jobs {run.jobs}` | {run.files - run.errors} | {run.wall_s:.1f} "
              f"| {run.files / run.wall_s:.2f} | {run.audio_s / run.wall_s:.2f} | - | - | - | - | {run.errors} | - |")
    if streams:
        print(f"\nStreams (WS /v1/listen, {args.streams} streams a level, one file each, 100 ms frames at {pace}; "
              "latency: end of audio to the last final)\n")
        print("| clients | streams ok | wall s | audio s/s | final latency p50 ms | p95 ms | p99 ms | send lag max ms "
              "| 1013s | errors | server peak RSS MB |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for lv in streams:
            print(f"| {lv.clients} | {len(lv.latencies_s)} | {lv.wall_s:.1f} | {lv.audio_s / lv.wall_s:.2f} "
                  f"| {latency_cells(lv.latencies_s)} | {1000 * lv.send_lag_max_s:.0f} | {lv.busy} | {lv.errors} "
                  f"| {lv.peak_rss_mb:.0f} |")
    if soak_result:
        s, rss = soak_result, soak_result.rss_mb
        print(f"\nSoak: {s.streams} streams held for {s.target_s:g} s, files looped over each socket at {pace} with "
              f"{SOAK_GAP_S:g} s of silence after each; each socket's finals checked against the same audio streamed "
              "alone afterwards; latency: end of a file's speech to its final, VAD's 600 ms included)\n")
        print("| streams | wall s | files sent | finals | finals ≠ same audio alone | ≠ file alone | errors "
              "| audio s/s (silence included) | final latency p50 ms | p95 ms | p99 ms | send lag max ms "
              "| RSS start MB | middle MB | end MB | growth MB | peak RSS MB |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        print(f"| {s.streams} | {s.wall_s:.1f} | {s.files_sent} | {s.finals} | {s.texts_differing} "
              f"| {s.texts_differing_from_file} | {s.errors} "
              f"| {s.audio_s / s.wall_s:.2f} | {latency_cells(s.latencies_s)} | {1000 * s.send_lag_max_s:.0f} "
              f"| {rss['start']:.0f} | {rss['middle']:.0f} | {rss['end']:.0f} | {rss['end'] - rss['start']:+.1f} "
              f"| {s.peak_rss_mb:.0f} |")
    print(f"\nserver peak RSS since start (VmHWM): {peak_since_start_mb:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--requests", type=int, default=24, help="uploads per level, shared among its clients")
    parser.add_argument("--streams", type=int, default=24, help="streams per level, shared among its clients (0: none)")
    parser.add_argument("--pace", type=float, default=1.0, help="stream speed, times real time (0: no pacing)")
    parser.add_argument("--jobs", type=int, nargs="*", default=[1, 2, 4], help="transcribe --jobs rows (none: skip)")
    parser.add_argument("--soak-s", type=float, default=60.0, help="how long the soak holds its streams (0: skip)")
    parser.add_argument("--soak-streams", type=int, default=8)
    parser.add_argument("--workers", type=int, default=DEFAULT_THREADS, help="the server's --workers")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="the server's and transcribe's --threads")
    parser.add_argument("--queue-size", type=int, default=16, help="the server's --queue-size")
    args = parser.parse_args()

    durations = {p.name: soundfile.info(str(p)).duration for p in FILES}
    pcm = {p.name: pcm16(p) for p in FILES}
    server = Server(args.workers, args.threads, args.queue_size, max(args.soak_streams, *args.clients))
    try:
        with httpx.Client() as http:  # each file alone, first: the texts every loaded request must give
            expected = {p.name: post(http, server.url, p).json()["text"] for p in FILES}
        # and each streamed alone: the finals every loaded stream must give
        alone = {p.name: asyncio.run(stream(server.ws_url, [pcm[p.name]], 0)) for p in FILES}
        expected_stream = {name: joined(run) for name, run in alone.items()}
        uploads = [run_upload_level(server, n, max(args.requests, n), expected, durations) for n in args.clients]
        streams = [run_stream_level(server, n, max(args.streams, n), args.pace, pcm, expected_stream, durations)
                   for n in args.clients] if args.streams else []
        soak_result = run_soak(server, args.soak_streams, args.soak_s, args.pace, pcm, expected_stream,
                               durations) if args.soak_s else None
        peak_since_start_mb = status_kb(server.process.pid, "VmHWM") / 1024
    finally:
        server.stop()
    cli = [run_cli(jobs, max(args.requests, 1), args.threads, expected, durations) for jobs in args.jobs]

    load = os.getloadavg()[0]
    print_tables(args, durations, uploads, streams, cli, soak_result, peak_since_start_mb, load)
    result = {"workers": args.workers, "threads": args.threads, "queue_size": args.queue_size, "pace": args.pace,
              "files": durations, "expected_upload_texts": expected, "expected_stream_texts": expected_stream,
              "load_average": load, "load_averages_end": os.getloadavg(), "cpus": os.cpu_count(),
              "peak_rss_since_start_mb": peak_since_start_mb,
              "uploads": [asdict(lv) for lv in uploads], "streams": [asdict(lv) for lv in streams],
              "transcribe_jobs": [asdict(run) for run in cli], "soak": asdict(soak_result) if soak_result else None}
    (ROOT / "benchmarks" / "results").mkdir(exist_ok=True)
    (ROOT / "benchmarks" / "results" / "serve_load.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
