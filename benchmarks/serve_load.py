"""Load on `speech2text serve`: 1, 2, 4 and 8 concurrent clients posting the sample recordings.

One real server process on a free loopback port (the ONNX runtime and the bundled
LM, as it ships), then for each client count a fixed amount of work: every client
posts assets/*.wav and *.flac in turn to POST /v1/audio/transcriptions, each
request once its previous one is answered, until the level's requests are done or
its time is up. Latency is one request, upload to answer, including any wait in the
server's queue. A 503 (queue full) is counted and the client waits its Retry-After;
any other status, or a text that differs from the file's text when posted alone,
is an error. Server peak RSS is the largest VmRSS of the server process sampled
every 20 ms during the level (VmHWM, the peak since start, is printed too).

    .venv/bin/python benchmarks/serve_load.py [--clients 1 2 4 8] [--requests 24] [--workers 2] [--queue-size 16]
"""

from __future__ import annotations

import argparse
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
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import soundfile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from speech2text.cli.common import DEFAULT_THREADS

FILES = sorted(p for p in (ROOT / "assets").iterdir() if p.suffix in (".wav", ".flac"))
MAX_LEVEL_S = 180  # no new request after this long in one level
RSS_SAMPLE_S = 0.02


def status_kb(pid: int, field_name: str) -> int:
    match = re.search(rf"^{field_name}:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.MULTILINE)
    return int(match.group(1))


class Server:
    """`speech2text serve --port 0` in a child process, until stop()."""

    def __init__(self, workers: int, threads: int, queue_size: int):
        command = [sys.executable, "-m", "speech2text", "serve", "--port", "0", "--workers", str(workers),
                   "--threads", str(threads), "--queue-size", str(queue_size)]
        self.process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
        for line in self.process.stderr:
            if match := re.search(r"serving on (http://\S+)", line):
                self.url = match.group(1)
                break
        else:
            raise SystemExit(f"the server did not start: {self.process.wait()}")
        threading.Thread(target=lambda: self.process.stderr.read(), daemon=True).start()  # keep the pipe drained

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

    def __enter__(self) -> None:
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Level:
    clients: int
    wall_s: float = 0.0
    latencies_s: list[float] = field(default_factory=list)
    audio_s: float = 0.0
    busy: int = 0  # 503s
    errors: int = 0
    peak_rss_kb: int = 0


def post(http: httpx.Client, url: str, path: Path) -> httpx.Response:
    with open(path, "rb") as audio:
        return http.post(f"{url}/v1/audio/transcriptions", files={"file": (path.name, audio)}, timeout=300)


def run_level(server: Server, clients: int, requests: int, expected: dict[str, str], durations: dict[str, float]) -> Level:
    level, lock = Level(clients), threading.Lock()
    tickets = iter(range(requests))  # taken under the lock: the level's requests, in all
    deadline = time.monotonic() + MAX_LEVEL_S

    def client(index: int) -> None:
        files = itertools.cycle(FILES[index % len(FILES):] + FILES[:index % len(FILES)])
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

    rss = PeakRss(server.process.pid)
    with rss, ThreadPoolExecutor(clients) as pool:
        started = time.monotonic()
        list(pool.map(client, range(clients)))
        level.wall_s = time.monotonic() - started
    level.peak_rss_kb = rss.peak_kb
    return level


def percentile_ms(values_s: list[float], q: float) -> str:
    if not values_s:
        return "-"
    if len(values_s) == 1:
        return f"{1000 * values_s[0]:.0f}"
    return f"{1000 * statistics.quantiles(values_s, n=100, method='inclusive')[q - 1]:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--requests", type=int, default=24, help="requests per level, shared among its clients")
    parser.add_argument("--workers", type=int, default=DEFAULT_THREADS, help="the server's --workers")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="the server's --threads")
    parser.add_argument("--queue-size", type=int, default=16, help="the server's --queue-size")
    args = parser.parse_args()

    durations = {p.name: soundfile.info(str(p)).duration for p in FILES}
    server = Server(args.workers, args.threads, args.queue_size)
    try:
        with httpx.Client() as http:  # one alone each, first: the texts every loaded request must give
            expected = {p.name: post(http, server.url, p).json()["text"] for p in FILES}
        levels = [run_level(server, n, max(args.requests, n), expected, durations) for n in args.clients]
        peak_since_start_kb = status_kb(server.process.pid, "VmHWM")
    finally:
        server.stop()

    load = os.getloadavg()[0]
    print(f"server: --workers {args.workers} --threads {args.threads} --queue-size {args.queue_size}, "
          f"{os.cpu_count()} CPUs, load average {load:.1f} at the end; files: "
          f"{', '.join(f'{n} ({d:.1f} s)' for n, d in durations.items())}\n")
    print("| clients | requests ok | requests/s | audio s/s | latency p50 ms | p95 ms | p99 ms | 503s | errors "
          "| server peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for level in levels:
        print(f"| {level.clients} | {len(level.latencies_s)} | {len(level.latencies_s) / level.wall_s:.2f} "
              f"| {level.audio_s / level.wall_s:.2f} | {percentile_ms(level.latencies_s, 50)} "
              f"| {percentile_ms(level.latencies_s, 95)} | {percentile_ms(level.latencies_s, 99)} | {level.busy} "
              f"| {level.errors} | {level.peak_rss_kb / 1024:.0f} |")
    print(f"\nserver peak RSS since start (VmHWM): {peak_since_start_kb / 1024:.0f} MB")
    result = {"workers": args.workers, "threads": args.threads, "queue_size": args.queue_size, "files": durations,
              "load_average": load, "peak_rss_since_start_mb": peak_since_start_kb / 1024,
              "levels": [{"clients": lv.clients, "wall_s": lv.wall_s, "latencies_s": lv.latencies_s,
                          "audio_s": lv.audio_s, "busy_503": lv.busy, "errors": lv.errors,
                          "peak_rss_mb": lv.peak_rss_kb / 1024} for lv in levels]}
    (ROOT / "benchmarks" / "results").mkdir(exist_ok=True)
    (ROOT / "benchmarks" / "results" / "serve_load.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
