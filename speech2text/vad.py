"""Endpointing: find where utterances start and end in a live stream of samples.

webrtcvad (Google's WebRTC voice-activity detector, from PyPI) classifies
30 ms frames as speech or not; an energy gate in front of it ignores frames
too quiet to be speech, which webrtcvad on its most sensitive setting may
still call speech. An utterance starts after `start_speech_ms` of speech
(with `pre_roll_ms` of audio before it kept, so the first consonant is not
clipped) and ends after `end_silence_ms` of non-speech or at
`max_utterance_s`.
"""

from __future__ import annotations

import collections
from dataclasses import asdict, dataclass

import numpy as np
import webrtcvad

from .audio import SAMPLE_RATE

FRAME_MS = 30
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000


@dataclass(frozen=True)
class VadConfig:
    aggressiveness: int = 2
    start_speech_ms: int = 90
    pre_roll_ms: int = 300
    end_silence_ms: int = 600
    max_utterance_s: float = 15.0
    energy_floor_db: float = -55.0

    def __post_init__(self):
        if self.aggressiveness not in (0, 1, 2, 3):
            raise ValueError(f"VAD aggressiveness must be 0, 1, 2 or 3, not {self.aggressiveness}")
        if self.end_silence_ms < FRAME_MS or self.start_speech_ms < FRAME_MS:
            raise ValueError(f"start-speech and end-silence must be at least {FRAME_MS} ms")
        if self.pre_roll_ms < 0 or self.max_utterance_s <= 1:
            raise ValueError("pre-roll must be >= 0 ms and the maximum utterance longer than 1 s")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Segment:
    """An utterance's samples and where it lies in the stream (seconds from the stream's start)."""

    samples: np.ndarray
    start_s: float
    end_s: float
    speech_end_s: float  # end of the last speech frame, before the trailing silence


class Endpointer:
    """Feed samples in any chunk size; get the utterance in progress and the finished ones.

    feed() returns the segments that ended during the chunk. `active` tells
    whether an utterance is in progress, and `current()` returns its audio so far.
    """

    def __init__(self, config: VadConfig = VadConfig()):
        self.config = config
        self.vad = webrtcvad.Vad(config.aggressiveness)
        self.pending = np.zeros(0, np.float32)
        self.frames_seen = 0
        self.pre_roll: collections.deque = collections.deque(maxlen=max(1, config.pre_roll_ms // FRAME_MS))
        self.recent: collections.deque = collections.deque(maxlen=config.start_speech_ms // FRAME_MS)
        self.utterance: list[np.ndarray] = []
        self.utterance_start_frame = 0
        self.last_speech_frame = 0
        self.silent_frames = 0

    @property
    def active(self) -> bool:
        return bool(self.utterance)

    def current(self) -> np.ndarray:
        return np.concatenate(self.utterance) if self.utterance else np.zeros(0, np.float32)

    def current_start_s(self) -> float:
        return self.utterance_start_frame * FRAME_MS / 1000

    def is_speech(self, frame: np.ndarray) -> bool:
        rms_db = 10 * np.log10(float(np.mean(frame**2)) + 1e-12)
        if rms_db < self.config.energy_floor_db:
            return False
        pcm = (np.clip(frame, -1, 1) * 32767).astype("<i2").tobytes()
        return self.vad.is_speech(pcm, SAMPLE_RATE)

    def feed(self, samples: np.ndarray) -> list[Segment]:
        """Samples: float32 mono 16 kHz, any length."""
        self.pending = np.concatenate([self.pending, samples.astype(np.float32, copy=False)])
        finished = []
        while len(self.pending) >= FRAME_SAMPLES:
            frame, self.pending = self.pending[:FRAME_SAMPLES], self.pending[FRAME_SAMPLES:]
            segment = self._frame(frame)
            if segment is not None:
                finished.append(segment)
        return finished

    def _frame(self, frame: np.ndarray) -> Segment | None:
        index = self.frames_seen
        self.frames_seen += 1
        speech = self.is_speech(frame)
        if not self.utterance:
            self.pre_roll.append(frame)
            self.recent.append(speech)
            if len(self.recent) == self.recent.maxlen and all(self.recent):
                self.utterance = list(self.pre_roll)
                self.utterance_start_frame = index + 1 - len(self.pre_roll)
                self.last_speech_frame = index
                self.silent_frames = 0
                self.pre_roll.clear()
                self.recent.clear()
            return None
        self.utterance.append(frame)
        if speech:
            self.last_speech_frame, self.silent_frames = index, 0
        else:
            self.silent_frames += 1
        too_long = len(self.utterance) * FRAME_MS >= self.config.max_utterance_s * 1000
        if self.silent_frames * FRAME_MS >= self.config.end_silence_ms or too_long:
            return self.finish()
        return None

    def finish(self) -> Segment | None:
        """End the utterance in progress now (end of stream, Ctrl-C); None if there is none."""
        if not self.utterance:
            return None
        samples = self.current()
        start_s = self.current_start_s()
        segment = Segment(samples, start_s, start_s + len(samples) / SAMPLE_RATE, (self.last_speech_frame + 1) * FRAME_MS / 1000)
        self.utterance = []
        self.silent_frames = 0
        return segment
