"""WS /v1/listen: live PCM16 audio in, partial and final JSON events out, from the streaming core of `listen`.

The client sends binary frames of little-endian 16-bit mono PCM at 16 kHz, or at
the rate it named in the URL (`?sample_rate=48000`: resampled here with soxr). The
server answers with StreamEvents as JSON, {"type": "partial" | "final", "text",
"start_s", "end_s", "confidence", ...}, finals with their words. A text frame
{"type": "end"} ends the stream: the utterance in progress is decoded, its final
event sent, and the server closes the socket (1000).

A client that closes the socket instead (a close frame, or a dropped connection)
is flushed the same way: the audio it sent is decoded to the end and the utterance
in progress finalized, but its final events cannot reach it. RFC 6455 would let the
server send them before answering a close frame, yet browsers drop every message
that arrives once they have called close(), and ASGI has no such half-closed state:
uvicorn answers the close frame itself before the app hears of it. So the finals
decoded after the client left are logged (times only, never the words) and counted
in GET /health as `undelivered_finals`; a client that wants its last line sends
{"type": "end"} and waits for the server to close, as the page does.

Audio is read by one task and decoded by another: whatever arrived while a decode
ran is fed at once in the next, so a stream that decodes slower than it arrives
catches up instead of falling further behind. The backlog is bounded (the reader
stops reading, and TCP pushes back on the client), and a stream idle for
`idle_timeout_s` is ended as if it had sent "end".
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass

import numpy as np
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from ..audio import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, SAMPLE_RATE  # noqa: F401 - the limits, app.py imports from here
from ..stream import StreamEvent, StreamingRecognizer
from ..vad import VadConfig
from .workers import WorkerPool

MAX_MESSAGE_BYTES = 256 * 1024  # 8 s of 16 kHz PCM16 in one frame; the server refuses larger frames
MAX_BACKLOG_MESSAGES = 64
# Close codes (RFC 6455): normal, unsupported data, policy violation, try again later.
NORMAL, UNSUPPORTED_DATA, POLICY_VIOLATION, TRY_AGAIN_LATER = 1000, 1003, 1008, 1013
LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamSettings:
    vad: VadConfig
    partial_interval_ms: int
    decoder: str  # of the final events; partials decode greedily (speech2text.stream)
    idle_timeout_s: float


class _Ended:
    """What ends the audio of a stream: the client's "end", idleness, a bad frame, or a closed socket.

    flush: decode what came before, to the end of the utterance in progress (not after a bad frame).
    """

    def __init__(self, reason: str, code: int = NORMAL, flush: bool = True):
        self.reason, self.code, self.flush = reason, code, flush


class _LentTranscriber:
    """The transcriber of a stream's StreamingRecognizer: each decoding job lends it the worker's own."""

    def __init__(self):
        self.transcriber = None

    def transcribe_samples(self, *args, **kwargs):
        return self.transcriber.transcribe_samples(*args, **kwargs)


def _event_record(event) -> dict:
    """An event as `listen --format jsonl` prints it: words on finals only."""
    return {k: v for k, v in event.to_dict().items() if event.type == "final" or k != "words"}


def _peer(websocket: WebSocket) -> str:
    return f"{websocket.client.host}:{websocket.client.port}" if websocket.client else "an unknown client"


class ListenSession:
    """One open WS /v1/listen connection, from accept to close."""

    def __init__(self, websocket: WebSocket, pool: WorkerPool, settings: StreamSettings, sample_rate: int):
        self.websocket = websocket
        self.pool = pool
        self.settings = settings
        self.lent = _LentTranscriber()
        self.recognizer = StreamingRecognizer(self.lent, vad=settings.vad,
                                              partial_interval_ms=settings.partial_interval_ms, decoder=settings.decoder)
        self.resampler = None
        if sample_rate != SAMPLE_RATE:
            import soxr

            self.resampler = soxr.ResampleStream(sample_rate, SAMPLE_RATE, 1, dtype="float32")
        self.odd_byte = b""  # a frame may split a sample; its first byte waits for the next frame
        self.backlog: asyncio.Queue = asyncio.Queue(MAX_BACKLOG_MESSAGES)
        self.undelivered: list[StreamEvent] = []  # finals decoded after the client had gone

    def _samples(self, data: bytes) -> np.ndarray:
        data = self.odd_byte + data
        whole = len(data) - len(data) % 2
        self.odd_byte = data[whole:]
        return np.frombuffer(data[:whole], "<i2").astype(np.float32) / 32768.0

    async def _read(self) -> None:
        """Put each audio frame on the backlog as bytes, then one _Ended."""
        while True:
            try:
                message = await asyncio.wait_for(self.websocket.receive(), self.settings.idle_timeout_s)
            except asyncio.TimeoutError:
                await self.backlog.put(_Ended(f"no audio for {self.settings.idle_timeout_s:g} s"))
                return
            if message["type"] == "websocket.disconnect":  # what it sent before is still decoded, to the end
                await self.backlog.put(_Ended("the client closed the socket"))
                return
            if message.get("bytes") is not None:
                await self.backlog.put(message["bytes"])
                continue
            try:
                request = json.loads(message.get("text") or "")
            except ValueError:
                request = None
            if isinstance(request, dict) and request.get("type") == "end":
                await self.backlog.put(_Ended("end of stream"))
            else:
                await self.backlog.put(_Ended('send binary PCM16 frames, then the text frame {"type": "end"}',
                                              UNSUPPORTED_DATA, flush=False))
            return

    def _decode(self, frames: list[bytes], end: bool):
        """A worker job: the frames' samples through the recognizer; at the end, the utterance in progress too."""

        def job(transcriber):
            self.lent.transcriber = transcriber
            try:
                samples = self._samples(b"".join(frames))
                if self.resampler is not None:
                    samples = self.resampler.resample_chunk(samples, last=end)
                events = self.recognizer.feed(samples) if len(samples) else []
                return events + (self.recognizer.flush() if end else [])
            finally:
                self.lent.transcriber = None

        return job

    async def run(self) -> None:
        reader = asyncio.create_task(self._read())
        try:
            while True:
                frames, ended = [await self.backlog.get()], None
                while not self.backlog.empty():  # everything that came in during the last decode, at once
                    frames.append(self.backlog.get_nowait())
                if isinstance(frames[-1], _Ended):
                    ended = frames.pop()
                if ended is None or ended.flush:
                    await self._deliver(await self.pool.stream_job(self._decode(frames, end=ended is not None)))
                if ended is not None:
                    await self.close(ended.code, ended.reason)
                    return
        except WebSocketDisconnect:  # gone while we were closing: nothing left to do
            pass
        finally:
            reader.cancel()
            if self.undelivered:
                spans = ", ".join(f"{e.start_s:.2f}-{e.end_s:.2f} s" for e in self.undelivered)
                LOG.warning("a stream from %s closed before its last results were sent: %d final event(s) decoded "
                            "and dropped (%s); a client that sends {\"type\": \"end\"} and waits for the close "
                            "receives them", _peer(self.websocket), len(self.undelivered), spans)

    async def _deliver(self, events: list[StreamEvent]) -> None:
        """Send the events while the client is there; the finals it can no longer receive go to self.undelivered."""
        for event in events:
            if self._connected():
                try:
                    await self.websocket.send_json(_event_record(event))
                    continue
                except WebSocketDisconnect:  # it went away since; the application state now says so
                    pass
            if event.type == "final":
                self.undelivered.append(event)

    def _connected(self) -> bool:
        return self.websocket.application_state == WebSocketState.CONNECTED and \
            self.websocket.client_state == WebSocketState.CONNECTED

    async def close(self, code: int, reason: str) -> None:
        if code != NORMAL:
            await self.send_error(reason)
        if self._connected():
            await self.websocket.close(code, reason)

    async def send_error(self, message: str) -> None:
        if self._connected():
            await self.websocket.send_json({"type": "error", "message": message})
