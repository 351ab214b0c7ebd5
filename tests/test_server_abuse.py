"""The second abuse battery (issue 40), server side: a real `speech2text serve` without an API key on a loopback
port, with small limits so that each is reached in a few seconds.

Rules under test: headers and bodies have read timeouts, so slow clients cannot hold every connection; a body
still arriving holds its place in the queue; uploads are checked from their header before decoding; without an
API key only local Host names are served (DNS rebinding); a prompt cannot raise; shutdown is bounded.
"""

from __future__ import annotations

import asyncio
import io
import signal
import socket
import time

import httpx
import numpy as np
import pytest
import soundfile
from conftest import LJSPEECH
from test_server import WEATHER, Server, wav_bytes
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

HEADER_TIMEOUT_S = 1.0
BODY_TIMEOUT_S = 2.0
SHUTDOWN_TIMEOUT_S = 1.0
# serve's limit_concurrency for these flags: 4 * (1 worker + 0 queued + 1 stream) + 16
CONNECTION_LIMIT = 24


@pytest.fixture(scope="module")
def server():
    running = Server("--workers", "1", "--threads", "1", "--queue-size", "0", "--max-streams", "1",
                     "--header-timeout-s", str(HEADER_TIMEOUT_S), "--body-timeout-s", str(BODY_TIMEOUT_S),
                     "--shutdown-timeout-s", str(SHUTDOWN_TIMEOUT_S), "--max-upload-mb", "64", "--decoder", "greedy")
    yield running.wait_until_serving()
    if running.process.poll() is None:
        running.stop()


def post(server, content: bytes, filename: str = "audio.wav", **fields) -> httpx.Response:
    return httpx.post(f"{server.url}/v1/audio/transcriptions", data=fields, files={"file": (filename, content)},
                      timeout=60)


def test_uploads_are_checked_from_their_header_before_decoding(server):
    lying, hour = io.BytesIO(), io.BytesIO()
    soundfile.write(lying, np.zeros(20_000, np.int16), 1, format="WAV", subtype="PCM_16")  # 40 KB "of 5.5 hours"
    with soundfile.SoundFile(hour, "w", 8000, 1, format="FLAC") as f:  # an hour of silence, about 90 KB
        for _ in range(60):
            f.write(np.zeros(8000 * 60, np.int16))
    ten_samples = wav_bytes((0.5 * np.random.default_rng(0).standard_normal(10)).astype(np.float32))
    for content, reason in ((lying.getvalue(), "a sample rate of 1 Hz is not speech audio"),
                            (hour.getvalue(), "3,600 s long, over the limit of 1,800 s"),
                            (ten_samples, "too short to hold speech (10 samples at 16000 Hz)")):
        started = time.monotonic()
        response = post(server, content)
        assert response.status_code == 400 and reason in response.json()["error"]["message"]
        assert time.monotonic() - started < 10
    assert post(server, WEATHER.read_bytes(), WEATHER.name).json()["text"]


def test_a_prompt_with_a_huge_number_is_no_server_error(server):
    response = post(server, WEATHER.read_bytes(), WEATHER.name, prompt="1" * 400 + ".5")
    assert response.status_code == 200 and response.json()["text"]


def test_without_a_key_only_local_host_names_are_served(server):
    evil = {"Host": "evil.example", "Origin": "http://evil.example"}
    response = httpx.post(f"{server.url}/v1/audio/transcriptions", headers=evil,
                          files={"file": ("a.flac", WEATHER.read_bytes())}, timeout=60)
    assert response.status_code == 400

    async def handshake_status(url: str, **options) -> int:
        try:
            async with connect(url, **options):
                return 101
        except InvalidStatus as refused:
            return refused.response.status_code

    ws_url = f"ws://127.0.0.1:{server.port}/v1/listen"
    assert asyncio.run(handshake_status(ws_url, origin="http://evil.example",
                                        additional_headers={"Host": "evil.example"})) == 400
    assert asyncio.run(handshake_status(ws_url)) == 101
    assert httpx.get(f"http://localhost:{server.port}/health").status_code == 200


def partial_request(port: int) -> socket.socket:
    """A connection that sends the start of a request and never finishes its headers."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    return sock


def test_connections_that_never_finish_their_headers_are_closed(server):
    held = [partial_request(server.port) for _ in range(CONNECTION_LIMIT + 6)]
    try:
        time.sleep(HEADER_TIMEOUT_S + 1.5)
        assert all(sock.recv(1024) == b"" for sock in held)  # each closed by the server
        assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200
    finally:
        for sock in held:
            sock.close()


def test_a_body_still_arriving_holds_its_place_and_times_out(server):
    boundary = "s2tboundary"
    head = (f"POST /v1/audio/transcriptions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: 1000000\r\n\r\n"
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.wav"\r\n\r\n')
    slow = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    slow.sendall(head.encode() + b"\0" * 1000)
    try:
        time.sleep(0.5)
        started = time.monotonic()
        busy = post(server, WEATHER.read_bytes(), WEATHER.name)  # 1 worker, no queue: the slow body holds it
        assert busy.status_code == 503 and time.monotonic() - started < 5
        answer = b""
        while chunk := slow.recv(65536):
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 408") and b"no part of the upload arrived for 2 s" in answer
    finally:
        slow.close()
    assert post(server, WEATHER.read_bytes(), WEATHER.name).status_code == 200


def test_shutdown_is_bounded_when_a_job_outlasts_the_grace(server):
    """Last in this file: it stops the module's server."""
    speech = np.concatenate([soundfile.read(str(p), dtype="float32")[0] for p in sorted(LJSPEECH.glob("*.flac"))])
    long_wav = wav_bytes(np.tile(speech, 75))  # 29 minutes, under the default --max-duration-s: a job of many seconds
    from concurrent.futures import ThreadPoolExecutor

    def upload() -> int | str:
        try:
            return post(server, long_wav, "long.wav").status_code
        except httpx.HTTPError as cut_off:
            return type(cut_off).__name__

    with ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(upload)
        deadline = time.monotonic() + 30
        while httpx.get(f"{server.url}/health").json()["queued_or_running"] == 0:
            assert time.monotonic() < deadline, "the upload never arrived"
            time.sleep(0.05)
        time.sleep(2.0)  # the body is in (its slot is taken as it starts), and the job has begun
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        code = server.process.wait(30)
        waited_s = time.monotonic() - started
        answer = in_flight.result(timeout=30)
    assert code == 1 and waited_s < SHUTDOWN_TIMEOUT_S + 10, (code, waited_s, answer, server.stderr)
    assert answer != 200
    time.sleep(0.2)
    assert any("transcription job(s) still running after the 1 s grace were abandoned" in line for line in server.stderr)
