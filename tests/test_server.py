"""`speech2text serve`, tested as clients use it: a real server process on a loopback port, the official
`openai` client, httpx, raw sockets and the `websockets` client.

The expected texts are what the CLI prints for the same files (`transcribe`, and `listen --input --fast`
for streams), so the server is held to the very results of the commands it wraps.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import openai
import pytest
import soundfile
import soxr
from conftest import ASSETS, LJSPEECH, ROOT
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from speech2text.decoding import Word
from speech2text.formats import render
from speech2text.transcribe import Transcript

KEY = "s2t-test-key"
ASSET_FILES = [ASSETS / "weather_in_paris.flac", ASSETS / "set_a_timer.wav", ASSETS / "what_is_your_name.wav"]
WEATHER = ASSET_FILES[0]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
MAX_UTTERANCE_S = 3.0
IDLE_TIMEOUT_S = 2.0
ALLOWED_ORIGIN = "http://app.example"


class Server:
    """`speech2text serve` in a child process, on a free loopback port; stderr is collected as it runs."""

    def __init__(self, *flags: str):
        command = [sys.executable, "-m", "speech2text", "serve", "--port", "0", "--threads", "2", *flags]
        self.process = subprocess.Popen(command, cwd=ROOT, env=ENV, stderr=subprocess.PIPE, text=True)
        self.stderr: list[str] = []

    def wait_until_serving(self) -> Server:
        started = time.monotonic()
        for line in self.process.stderr:
            self.stderr.append(line)
            if match := re.search(r"serving on (http://\S+)", line):
                self.url = match.group(1)
                break
            assert time.monotonic() - started < 90, "the server did not start"
        else:
            raise AssertionError(f"the server exited: {''.join(self.stderr)}")
        self.port = int(self.url.rsplit(":", 1)[1])
        self.ws_url = f"ws://127.0.0.1:{self.port}/v1/listen"
        threading.Thread(target=lambda: self.stderr.extend(self.process.stderr), daemon=True).start()
        return self

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(60)


def run_cli(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "speech2text", *args], cwd=ROOT, env=ENV, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def launched():
    # Small limits, so that each of them can be reached quickly: 1 MB uploads, 2 workers + 1 queued upload.
    running = Server("--api-key", KEY, "--workers", "2", "--queue-size", "1", "--max-upload-mb", "1",
                     "--max-streams", "3", "--idle-timeout-s", str(IDLE_TIMEOUT_S), "--max-utterance-s", str(MAX_UTTERANCE_S),
                     "--cors-origin", ALLOWED_ORIGIN)
    yield running
    if running.process.poll() is None:
        running.stop()


@pytest.fixture(scope="module")
def server(launched, cli):
    """The module's server, once it serves; the CLI's expectations are computed while it starts."""
    return launched.wait_until_serving()


def listen_finals(path: Path) -> list[dict]:
    """The final events `listen --input PATH --fast` prints, from the streaming core it runs (speech2text.stream),
    on the ONNX runtime that the server uses."""
    from speech2text.transcribe import load_transcriber
    from speech2text.stream import file_chunks, stream_events

    transcriber = load_transcriber(runtime="onnx", threads=1)
    transcriber.load_language_model()
    return [e.to_dict() for e in stream_events(transcriber, file_chunks(path, realtime=False)) if e.type == "final"]


# A phrase one word from what_is_your_name.wav says: as a hotword it sways the last word ("name" heard as
# "game"), so the text shows whether the prompt was used.
PROMPT = "what is your game"


@pytest.fixture(scope="module")
def cli(launched):
    """What the CLI prints for the test files: transcribe's json records and a hotword run; listen's final events."""
    files = [str(f) for f in ASSET_FILES]
    with ThreadPoolExecutor(2) as pool:
        records = pool.submit(run_cli, "transcribe", "--format", "json", "--jobs", "1", "--threads", "1", *files)
        hotword = pool.submit(run_cli, "transcribe", "--threads", "1", "--hotword", PROMPT, str(ASSET_FILES[2]))
        return {
            "records": {Path(r["audio"]).name: r for r in json.loads(records.result())},
            "hotword_text": hotword.result().strip(),
            "listen_finals": listen_finals(WEATHER),
        }


def client(server, key: str = KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0, timeout=60)


def post(server, content: bytes, filename: str = "audio.wav", key: str | None = KEY, **fields) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.post(f"{server.url}/v1/audio/transcriptions", headers=headers, data=fields,
                      files={"file": (filename, content)}, timeout=60)


def wav_bytes(samples: np.ndarray, rate: int = 16_000) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def pcm16(path: Path, rate: int = 16_000, tail_silence_s: float = 1.0) -> bytes:
    """A file as the PCM16 a client streams, at `rate`, with the second of silence that `listen --input` appends."""
    samples, file_rate = soundfile.read(str(path), dtype="float32")
    samples = np.concatenate([samples, np.zeros(int(tail_silence_s * file_rate), np.float32)])
    if rate != file_rate:
        samples = soxr.resample(samples, file_rate, rate)
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


async def stream(url: str, audio: bytes, chunk_bytes: int = 960, **connect_options) -> tuple[list[dict], tuple]:
    """Send `audio` in 30 ms frames (at 16 kHz), then "end"; the events received and the close frame."""
    async with connect(url, additional_headers={"Authorization": f"Bearer {KEY}"}, **connect_options) as ws:
        for start in range(0, len(audio), chunk_bytes):
            await ws.send(audio[start:start + chunk_bytes])
        await ws.send(json.dumps({"type": "end"}))
        return await received(ws), (ws.close_code, ws.close_reason)


async def received(ws) -> list[dict]:
    """Every event until the server closes the socket, whatever its close code."""
    events = []
    try:
        async for message in ws:
            events.append(json.loads(message))
    except ConnectionClosed:
        pass
    return events


def test_health_needs_no_key_and_the_server_runs_without_torch(server):
    health = httpx.get(f"{server.url}/health").json()
    assert health["status"] == "ok" and health["runtime"] == "onnx" and health["auth"] is True
    maps = Path(f"/proc/{server.process.pid}/maps").read_text()
    assert "libtorch" not in maps and "onnxruntime" in maps


def test_openai_client_gets_the_text_of_transcribe(server, cli):
    for path in ASSET_FILES:
        with open(path, "rb") as audio:
            result = client(server).audio.transcriptions.create(model="whisper-1", file=audio)
        assert result.text == cli["records"][path.name]["text"]


def test_every_response_format_matches_the_cli(server, cli):
    record = cli["records"][WEATHER.name]
    content = WEATHER.read_bytes()
    assert post(server, content, WEATHER.name, response_format="text").text == record["text"] + "\n"
    words = [Word(**w) for w in record["words"]]  # transcribe --format srt/vtt renders these words
    for response_format in ("srt", "vtt"):
        response = post(server, content, WEATHER.name, response_format=response_format)
        assert response.text == render(WEATHER.name, Transcript(record["text"], words), response_format)
    assert response.headers["content-type"].startswith("text/vtt") and response.text.startswith("WEBVTT\n\n00:00:00.")
    with open(WEATHER, "rb") as audio:
        verbose = client(server).audio.transcriptions.create(
            model="whisper-1", file=audio, response_format="verbose_json", timestamp_granularities=["word", "segment"])
    assert verbose.text == record["text"] and verbose.duration == record["duration_s"]
    assert [(w.word, w.start, w.end) for w in verbose.words] == [(w["text"], w["start_s"], w["end_s"]) for w in record["words"]]
    assert [s.text for s in verbose.segments] == [record["text"]]
    assert 0 < verbose.segments[0].confidence <= 1


def test_a_prompt_acts_as_hotwords(server, cli):
    path = ASSET_FILES[2]
    with open(path, "rb") as audio:
        result = client(server).audio.transcriptions.create(model="whisper-1", file=audio, prompt=PROMPT)
    assert result.text == cli["hotword_text"]
    assert cli["hotword_text"] != cli["records"][path.name]["text"]  # the prompt changed the result


def test_only_english_and_known_formats_are_accepted(server):
    with open(WEATHER, "rb") as audio, pytest.raises(openai.BadRequestError, match="only English"):
        client(server).audio.transcriptions.create(model="whisper-1", file=audio, language="fr")
    for fields, param in (({"response_format": "docx"}, "response_format"), ({"temperature": "hot"}, "temperature")):
        response = post(server, WEATHER.read_bytes(), **fields)
        assert response.status_code == 400 and response.json()["error"]["param"] == param
    assert post(server, WEATHER.read_bytes(), language="en-GB", temperature="0.2").json()["text"]


def test_a_missing_or_wrong_key_is_refused(server):
    for key in (None, "wrong-key"):
        response = post(server, WEATHER.read_bytes(), key=key)
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
        assert "API key" in response.json()["error"]["message"]
    with open(WEATHER, "rb") as audio, pytest.raises(openai.AuthenticationError):
        client(server, key="wrong-key").audio.transcriptions.create(model="whisper-1", file=audio)
    assert httpx.get(f"{server.url}/v1/models").status_code == 401
    assert client(server).models.list().data[0].id == "en-small"

    async def handshake_status(**options) -> int:
        try:
            async with connect(server.ws_url, **options) as ws:
                await ws.send(json.dumps({"type": "end"}))
                return 101
        except InvalidStatus as refused:
            return refused.response.status_code

    assert asyncio.run(handshake_status()) == 401
    assert asyncio.run(handshake_status(additional_headers={"Authorization": "Bearer wrong-key"})) == 401
    assert asyncio.run(handshake_status(subprotocols=["speech2text", "bearer.wrong-key"])) == 401
    assert asyncio.run(handshake_status(subprotocols=["speech2text", f"bearer.{KEY}"])) == 101


def test_bad_audio_gives_400_with_a_json_error_and_the_server_keeps_serving(server, cli):
    silence = wav_bytes(np.zeros(16_000, np.float32))
    truncated = WEATHER.read_bytes()[:200]
    for content, reason in ((b"this is not audio" * 100, "not a readable audio file"), (b"", "empty file"),
                            (silence, "silent"), (truncated, "")):
        response = post(server, content, "upload.flac")
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert reason in error["message"] and error["param"] == "file" and "Traceback" not in error["message"]
    no_file = httpx.post(f"{server.url}/v1/audio/transcriptions", headers={"Authorization": f"Bearer {KEY}"},
                         data={"model": "whisper-1"}, files={"other": ("x", b"x")})
    assert no_file.status_code == 400 and "'file'" in no_file.json()["error"]["message"]
    assert post(server, WEATHER.read_bytes()).json()["text"] == cli["records"][WEATHER.name]["text"]
    assert not any("Traceback" in line for line in server.stderr)


def raw_request(port: int, head: str, body_chunks=()) -> bytes:
    """Send a request over a plain socket, body chunk by chunk while the server reads, and return its response."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode())
        try:
            for chunk in body_chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):  # the server stopped reading: the answer is already there
            pass
        response = b""
        while chunk := sock.recv(65536):
            response += chunk
        return response


def test_the_upload_limit_is_enforced_while_reading(server, cli):
    boundary = "s2tboundary"
    part_head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\n'
                 "Content-Type: audio/wav\r\n\r\n").encode()
    head = (f"POST /v1/audio/transcriptions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {KEY}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\nConnection: close\r\n")
    # A declared 50 MB body is refused on its headers alone: not one byte of it is sent.
    declared = raw_request(server.port, head + "Content-Length: 50000000\r\n\r\n")
    assert declared.startswith(b"HTTP/1.1 413") and b"larger than the server's limit of 1 MB" in declared
    # A chunked body without a length is cut off at the limit: 1 MB past it is never read.
    megabyte = b"\0" * 1_000_000

    def chunks():
        yield b"%x\r\n%s\r\n" % (len(part_head), part_head)
        for _ in range(30):  # 30 MB on offer
            yield b"%x\r\n%s\r\n" % (len(megabyte), megabyte)

    started = time.monotonic()
    chunked = raw_request(server.port, head + "Transfer-Encoding: chunked\r\n\r\n", chunks())
    assert chunked.startswith(b"HTTP/1.1 413") and b'"param":"file"' in chunked
    assert time.monotonic() - started < 20
    assert post(server, WEATHER.read_bytes()).json()["text"] == cli["records"][WEATHER.name]["text"]


def test_concurrent_uploads_each_get_their_own_text(server, cli):
    jobs = ASSET_FILES * 2
    with ThreadPoolExecutor(3) as pool:  # the server's capacity: 2 workers and 1 queued
        started = time.monotonic()
        responses = list(pool.map(lambda path: post(server, path.read_bytes(), path.name), jobs))
        elapsed_s = time.monotonic() - started
    assert [r.json()["text"] for r in responses] == [cli["records"][p.name]["text"] for p in jobs]
    print(f"{len(jobs)} uploads, 3 at a time: {elapsed_s:.2f} s")


def test_a_full_queue_answers_503_with_retry_after(server):
    long_speech = np.concatenate([soundfile.read(str(p), dtype="float32")[0] for p in sorted(LJSPEECH.glob("*.flac"))])
    flac = io.BytesIO()
    soundfile.write(flac, long_speech[: 16_000 * 15], 16_000, format="FLAC")
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: post(server, flac.getvalue(), "long.flac"), range(8)))
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) == {200, 503} and statuses.count(200) >= 3, statuses
    for busy in (r for r in responses if r.status_code == 503):
        assert int(busy.headers["retry-after"]) >= 1 and "busy" in busy.json()["error"]["message"]
    assert len({r.json()["text"] for r in responses if r.status_code == 200}) == 1


def test_a_stream_gives_the_final_events_of_listen(server, cli):
    events, close = asyncio.run(stream(server.ws_url, pcm16(WEATHER)))
    finals = [e for e in events if e["type"] == "final"]
    expected = cli["listen_finals"]

    def timing(event: dict) -> tuple:
        return event["text"], event["start_s"], event["end_s"], [(w["text"], w["start_s"], w["end_s"]) for w in event["words"]]

    assert [timing(e) for e in finals] == [timing(e) for e in expected]
    # PCM16 frames carry the file's samples rounded to 16 bits, so confidences may move in the third decimal.
    assert [e["confidence"] for e in finals] == pytest.approx([e["confidence"] for e in expected], abs=0.005)
    assert all({"text", "start_s", "end_s", "confidence"} <= set(e) for e in events if e["type"] == "partial")
    assert close == (1000, "end of stream")


def test_a_stream_at_48_khz_is_resampled(server, cli):
    events, _ = asyncio.run(stream(f"{server.ws_url}?sample_rate=48000", pcm16(WEATHER, 48_000), chunk_bytes=2880))
    assert [e["text"] for e in events if e["type"] == "final"] == [e["text"] for e in cli["listen_finals"]]


def test_utterances_are_cut_at_the_maximum_length(server):
    speech = min(LJSPEECH.glob("*.flac"))
    events, _ = asyncio.run(stream(server.ws_url, pcm16(speech)))
    finals = [e for e in events if e["type"] == "final"]
    assert len(finals) >= 2
    assert all(e["end_s"] - e["start_s"] <= MAX_UTTERANCE_S + 0.001 for e in finals)


def test_an_idle_stream_is_closed(server):
    async def idle() -> tuple[tuple, float]:
        async with connect(server.ws_url, additional_headers={"Authorization": f"Bearer {KEY}"}) as ws:
            started = time.monotonic()
            await received(ws)
            return (ws.close_code, ws.close_reason), time.monotonic() - started

    (code, reason), waited_s = asyncio.run(idle())
    assert code == 1000 and "no audio" in reason
    assert IDLE_TIMEOUT_S - 0.1 < waited_s < IDLE_TIMEOUT_S + 3


def test_stream_limits_bad_frames_and_rates(server):
    async def scenario():
        headers = {"Authorization": f"Bearer {KEY}"}
        held = [await connect(server.ws_url, additional_headers=headers) for _ in range(3)]
        async with connect(server.ws_url, additional_headers=headers) as extra:
            refusal = await received(extra)
            extra_close = extra.close_code
        for ws in held:
            await ws.close()
        await asyncio.sleep(0.5)
        async with connect(server.ws_url, additional_headers=headers) as ws:
            await ws.send("hello")
            bad_frame = await received(ws)
            bad_close = ws.close_code
        try:
            async with connect(f"{server.ws_url}?sample_rate=abc", additional_headers=headers):
                rate_status = 101
        except InvalidStatus as refused:
            rate_status = refused.response.status_code
        return refusal, extra_close, bad_frame, bad_close, rate_status

    refusal, extra_close, bad_frame, bad_close, rate_status = asyncio.run(scenario())
    assert extra_close == 1013 and refusal[0]["type"] == "error" and "maximum of 3 streams" in refusal[0]["message"]
    assert bad_close == 1003 and bad_frame[0]["type"] == "error"
    assert rate_status == 400


def test_a_client_that_vanishes_mid_stream_leaves_the_server_serving(server, cli):
    audio = pcm16(WEATHER)

    async def vanish():
        ws = await connect(server.ws_url, additional_headers={"Authorization": f"Bearer {KEY}"})
        for start in range(0, len(audio) // 2, 960):
            await ws.send(audio[start:start + 960])
        ws.transport.abort()  # no close frame: the TCP connection just drops

    asyncio.run(vanish())
    deadline = time.monotonic() + 10
    while httpx.get(f"{server.url}/health").json()["streams"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert httpx.get(f"{server.url}/health").json()["streams"] == 0
    events, _ = asyncio.run(stream(server.ws_url, audio))
    assert [e["text"] for e in events if e["type"] == "final"] == [e["text"] for e in cli["listen_finals"]]


def test_closing_the_socket_flushes_the_utterance_in_progress(server):
    """A client that closes after its audio, without {"type": "end"}: the server still decodes to the end of the
    utterance in progress, but the socket is closed, so those finals are logged and counted instead of sent
    (speech2text/server/streaming.py says why); together with those it did send, they are the finals of "end"."""
    samples, _ = soundfile.read(str(WEATHER), dtype="float32")
    voiced = np.flatnonzero(np.abs(samples) > 0.01)
    mid_speech = samples[: voiced[0] + 3 * (voiced[-1] - voiced[0]) // 4]  # the audio stops in the middle of a word
    audio = (mid_speech * 32767).astype("<i2").tobytes()

    def span(event: dict) -> str:
        return f"{event['start_s']:.2f}-{event['end_s']:.2f} s"

    ended = [span(e) for e in asyncio.run(stream(server.ws_url, audio))[0] if e["type"] == "final"]
    undelivered_before = httpx.get(f"{server.url}/health").json()["undelivered_finals"]
    log_lines_before = len(server.stderr)

    async def send_then_close() -> tuple[list[dict], int]:
        async with connect(server.ws_url, additional_headers={"Authorization": f"Bearer {KEY}"}) as ws:
            reading = asyncio.create_task(received(ws))
            for start in range(0, len(audio), 960):
                await ws.send(audio[start:start + 960])
            await ws.close()
            return await reading, ws.close_code

    events, close_code = asyncio.run(send_then_close())
    dropped = re.compile(r"(\d+) final event\(s\) decoded and dropped \(([^)]*)\)")
    deadline = time.monotonic() + 20
    while not (logged := [m for line in server.stderr[log_lines_before:] if (m := dropped.search(line))]):
        assert time.monotonic() < deadline, "the server logged no dropped finals"
        time.sleep(0.1)
    undelivered = logged[0].group(2).split(", ")
    assert int(logged[0].group(1)) == len(undelivered) >= 1  # the flushed utterance, at least
    assert httpx.get(f"{server.url}/health").json()["undelivered_finals"] - undelivered_before == len(undelivered)
    assert [span(e) for e in events if e["type"] == "final"] + undelivered == ended
    assert close_code == 1000  # the client's own close, answered at once


def test_the_page_is_self_contained_and_cors_only_for_named_origins(server):
    page = httpx.get(f"{server.url}/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'id="mic"' in page.text and 'id="drop"' in page.text and '<script src="page.js">' in page.text
    for name in ("page.js", "capture.js"):
        script = httpx.get(f"{server.url}/{name}")
        assert script.status_code == 200 and "javascript" in script.headers["content-type"]
        assert not re.search(r"https?://", script.text)  # nothing fetched from elsewhere
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text)
    def preflight(origin: str) -> httpx.Response:
        return httpx.options(f"{server.url}/v1/audio/transcriptions", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"})

    assert "access-control-allow-origin" not in preflight("http://evil.example").headers
    assert preflight(ALLOWED_ORIGIN).headers["access-control-allow-origin"] == ALLOWED_ORIGIN

    async def foreign_origin_status() -> int:
        try:
            async with connect(server.ws_url, origin="http://evil.example",
                               additional_headers={"Authorization": f"Bearer {KEY}"}):
                return 101
        except InvalidStatus as refused:
            return refused.response.status_code

    assert asyncio.run(foreign_origin_status()) == 403


def test_start_up_errors_are_one_line(server, tmp_path):
    cases = {"cannot listen on 127.0.0.1": ["--port", str(server.port)],
             "missing.arpa: no such language model file": ["--port", "0", "--lm", str(tmp_path / "missing.arpa")],
             "argument --max-upload-mb: expected a finite number, not 'nan'": ["--port", "0", "--max-upload-mb", "nan"],
             "argument --idle-timeout-s: must be more than 0, not '0'": ["--port", "0", "--idle-timeout-s", "0"],
             "argument --partial-interval-ms: must be 0 or more, not -1": ["--port", "0", "--partial-interval-ms", "-1"]}
    runs = {message: subprocess.Popen([sys.executable, "-m", "speech2text", "serve", "--workers", "1", *flags],
                                      cwd=ROOT, env=ENV, stderr=subprocess.PIPE, text=True)
            for message, flags in cases.items()}
    for message, run in runs.items():
        stderr = run.communicate(timeout=60)[1]
        assert run.returncode != 0
        assert message in stderr.strip().splitlines()[-1] and "Traceback" not in stderr, stderr


def test_sigterm_lets_the_request_in_flight_finish(server):
    """Last in this file: it stops the module's server."""
    speech = np.concatenate([soundfile.read(str(p), dtype="float32")[0] for p in sorted(LJSPEECH.glob("*.flac"))])
    with ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(post, server, wav_bytes(speech[: 16_000 * 15]), "long.wav")
        deadline = time.monotonic() + 20
        while httpx.get(f"{server.url}/health").json()["queued_or_running"] == 0:
            assert time.monotonic() < deadline, "the upload never reached a worker"
            time.sleep(0.01)
        server.process.send_signal(signal.SIGTERM)
        response = in_flight.result()
    assert response.status_code == 200 and response.json()["text"]
    assert server.process.wait(30) == 0
    assert not any("Traceback" in line for line in server.stderr), "".join(server.stderr)
