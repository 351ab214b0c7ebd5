"""The streaming core shared by the microphone and by files played at real-time pace.

Samples arrive in chunks; the endpointer cuts them into utterances. A
bidirectional LSTM needs the future, so partial results come from decoding
the whole growing utterance every `partial_interval_ms` of new audio; the
final result is one decode of the complete utterance, with the LM beam search
unless told otherwise (partials decode greedily, to stay cheap). The utterance length
is capped by VadConfig.max_utterance_s, so a partial decode's cost is bounded.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .audio import SAMPLE_RATE, read_blocks
from .decoding import Transcript
from .vad import Endpointer, Segment, VadConfig


@dataclass(frozen=True)
class StreamEvent(Transcript):
    """A partial or final result: a Transcript on the stream's clock, with its kind and decode time."""

    type: str = "final"  # "partial" or "final"
    decode_ms: float = 0.0

    def to_dict(self) -> dict:
        return {"type": self.type, "text": self.text, "start_s": self.start_s, "end_s": self.end_s,
                "confidence": self.confidence, "words": [asdict(w) for w in self.words], "decode_ms": self.decode_ms}


class StreamingRecognizer:
    """Turns a stream of 16 kHz float32 chunks into partial and final StreamEvents."""

    def __init__(
        self, transcriber, vad: VadConfig = VadConfig(), partial_interval_ms: int | None = 300, decoder: str = "lm"
    ):
        self.transcriber = transcriber
        # Partials only need to be quick; the final line gets the full decoder (LM beam search by default).
        self.decoders = {"partial": "greedy", "final": decoder}
        self.endpointer = Endpointer(vad)
        self.partial_interval = None if not partial_interval_ms else partial_interval_ms * SAMPLE_RATE // 1000
        self.samples_at_last_partial = 0
        self.last_partial_text = ""

    def _decode(self, samples: np.ndarray, start_s: float, kind: str) -> StreamEvent:
        started = time.perf_counter()
        result = self.transcriber.transcribe_samples([samples], decoder=self.decoders[kind])[0].shifted(start_s)
        decode_ms = round((time.perf_counter() - started) * 1000, 1)
        return StreamEvent(result.text, result.words, result.start_s, result.end_s, type=kind, decode_ms=decode_ms)

    def _final(self, segment: Segment) -> StreamEvent | None:
        self.samples_at_last_partial = 0
        self.last_partial_text = ""
        event = self._decode(segment.samples, segment.start_s, "final")
        return event if event.text else None

    def feed(self, chunk: np.ndarray) -> list[StreamEvent]:
        events = [e for segment in self.endpointer.feed(chunk) if (e := self._final(segment))]
        if self.partial_interval and self.endpointer.active:
            current = self.endpointer.current()
            if len(current) - self.samples_at_last_partial >= self.partial_interval:
                self.samples_at_last_partial = len(current)
                partial = self._decode(current, self.endpointer.current_start_s(), "partial")
                if partial.text and partial.text != self.last_partial_text:
                    self.last_partial_text = partial.text
                    events.append(partial)
        return events

    def flush(self) -> list[StreamEvent]:
        """End of stream: the utterance in progress becomes a final result."""
        segment = self.endpointer.finish()
        event = self._final(segment) if segment is not None else None
        return [event] if event else []


def stream_events(transcriber, chunks: Iterable[np.ndarray], **options) -> Iterator[StreamEvent]:
    """Partial and final events for an iterable of float32 16 kHz chunks (see StreamingRecognizer)."""
    recognizer = StreamingRecognizer(transcriber, **options)
    try:
        for chunk in chunks:
            yield from recognizer.feed(chunk)
    except (KeyboardInterrupt, OSError, RuntimeError):
        # Ctrl-C or a device that went away: the utterance in progress is still decoded, then the error goes on.
        yield from recognizer.flush()
        raise
    yield from recognizer.flush()


def file_chunks(path: str | Path, chunk_ms: int = 30, realtime: bool = True, tail_silence_ms: int = 1000) -> Iterator[np.ndarray]:
    """A file as microphone-sized chunks, paced at real time when `realtime`.

    Some silence is appended, as a real microphone keeps delivering after the
    speaker stops, so the last utterance ends by endpointing rather than by
    the end of the file.
    """
    size = SAMPLE_RATE * chunk_ms // 1000
    silence = np.zeros(SAMPLE_RATE * tail_silence_ms // 1000, np.float32)
    started, sent = time.monotonic(), 0
    pending = np.zeros(0, np.float32)
    blocks = itertools.chain(read_blocks(path, block_s=1.0), [silence])
    for block in itertools.chain(blocks, [None]):
        pending = np.concatenate([pending, block]) if block is not None else pending
        # Equal chunks, as a microphone delivers them; the end of the stream may be shorter.
        while len(pending) >= size or (block is None and len(pending)):
            chunk, pending = pending[:size], pending[size:]
            sent += len(chunk)
            if realtime:  # a microphone delivers a chunk once its last sample is recorded
                time.sleep(max(0.0, started + sent / SAMPLE_RATE - time.monotonic()))
            yield chunk
