"""Endpointing and the streaming core, on real recorded speech with pauses between utterances."""

import numpy as np
import pytest

from conftest import FSDD
from speech2text.audio import SAMPLE_RATE, load_audio
from speech2text.stream import StreamingRecognizer, file_chunks
from speech2text.vad import FRAME_MS, Endpointer, VadConfig


def digits_with_pauses(pause_s: float = 1.0):
    """Three real FSDD digits separated by silence; returns samples and each digit's (start, end) in seconds."""
    pieces, spans, t = [np.zeros(int(0.5 * SAMPLE_RATE), np.float32)], [], 0.5
    for name in ("2_theo_0", "5_theo_1", "9_theo_2"):
        speech = load_audio(FSDD / f"{name}.flac")
        pieces += [speech, np.zeros(int(pause_s * SAMPLE_RATE), np.float32)]
        spans.append((t, t + len(speech) / SAMPLE_RATE))
        t += len(speech) / SAMPLE_RATE + pause_s
    return np.concatenate(pieces), spans


def feed_in_chunks(endpointer, samples, chunk):
    return [s for i in range(0, len(samples), chunk) for s in endpointer.feed(samples[i : i + chunk])]


def test_endpointer_finds_each_utterance_with_its_times():
    samples, spans = digits_with_pauses()
    segments = feed_in_chunks(Endpointer(VadConfig(end_silence_ms=450)), samples, 480)
    assert len(segments) == 3
    for segment, (start, end) in zip(segments, spans):
        # Recordings carry some lead-in and tail; speech must lie inside the segment, with the pre-roll before it.
        assert start - 0.35 <= segment.start_s <= end and segment.end_s >= end - 0.1
        assert segment.end_s - segment.speech_end_s == pytest.approx(0.45, abs=FRAME_MS / 1000)
        assert len(segment.samples) == pytest.approx((segment.end_s - segment.start_s) * SAMPLE_RATE, abs=1)


def test_chunk_size_does_not_matter():
    samples, _ = digits_with_pauses()
    by_size = [[(s.start_s, s.end_s) for s in feed_in_chunks(Endpointer(), samples, size)] for size in (160, 480, 1337, 16000)]
    assert all(spans == by_size[0] for spans in by_size)


def test_silence_and_quiet_noise_never_start_an_utterance():
    rng = np.random.default_rng(0)
    quiet = (0.0003 * rng.standard_normal(SAMPLE_RATE * 5)).astype(np.float32)
    endpointer = Endpointer(VadConfig(aggressiveness=0))
    assert feed_in_chunks(endpointer, np.zeros(SAMPLE_RATE * 3, np.float32), 480) == []
    assert feed_in_chunks(endpointer, quiet, 480) == [] and not endpointer.active


def test_max_utterance_length_cuts_endless_speech():
    samples, _ = digits_with_pauses(pause_s=0.05)
    long_speech = np.tile(samples[SAMPLE_RATE // 2 :], 4)
    segments = feed_in_chunks(Endpointer(VadConfig(max_utterance_s=2.0)), long_speech, 480)
    assert segments and all(len(s.samples) <= 2.0 * SAMPLE_RATE + 480 for s in segments)


def test_flush_returns_the_utterance_in_progress():
    samples, spans = digits_with_pauses()
    endpointer = Endpointer()
    cut = int((spans[0][0] + 0.3) * SAMPLE_RATE)
    assert feed_in_chunks(endpointer, samples[:cut], 480) == []
    assert endpointer.active
    segment = endpointer.finish()
    assert segment.end_s == pytest.approx(cut / SAMPLE_RATE, abs=0.03)
    assert endpointer.finish() is None


def test_bad_vad_settings_are_rejected():
    for bad in (dict(aggressiveness=5), dict(end_silence_ms=0), dict(max_utterance_s=0.5)):
        with pytest.raises(ValueError):
            VadConfig(**bad)


class FakeTranscriber:
    """Records what the streaming core asks to decode; answers with the audio length in words."""

    def __init__(self):
        self.calls = []

    def transcribe_samples(self, batch, decoder="lm"):
        from speech2text.decoding import Word
        from speech2text.transcribe import Transcript

        self.calls.append((len(batch[0]), decoder))
        n = max(1, round(len(batch[0]) / SAMPLE_RATE * 2))
        words = [Word("w", 0.1 * i, 0.1 * i + 0.05, 0.9) for i in range(n)]
        return [Transcript(" ".join(["w"] * n), words, end_s=len(batch[0]) / SAMPLE_RATE)]


def test_partials_grow_at_the_cadence_and_the_final_decodes_the_whole_utterance():
    samples, _ = digits_with_pauses()
    fake = FakeTranscriber()
    recognizer = StreamingRecognizer(fake, partial_interval_ms=150)
    decodes = []
    decode = recognizer._decode
    recognizer._decode = lambda audio, start_s, kind: decodes.append((kind, len(audio))) or decode(audio, start_s, kind)
    events = [e for i in range(0, len(samples), 480) for e in recognizer.feed(samples[i : i + 480])]
    finals = [e for e in events if e.type == "final"]
    assert len(finals) == 3
    # Partials decode greedily, to stay cheap; finals get the LM beam search.
    assert [decoder for _, decoder in fake.calls] == ["lm" if kind == "final" else "greedy" for kind, _ in decodes]
    assert all(e.words[0].start_s >= e.start_s for e in finals)
    # Each final decodes the complete utterance; partials decode it so far, at least 150 ms apart.
    for event, (kind, length) in zip(finals, [d for d in decodes if d[0] == "final"]):
        assert length == pytest.approx((event.end_s - event.start_s) * SAMPLE_RATE, abs=16)
    partials = [length for kind, length in decodes if kind == "partial"]
    growing = [b - a for a, b in zip(partials, partials[1:]) if b > a]
    assert len(growing) >= 3 and min(growing) >= 0.15 * SAMPLE_RATE


def test_stream_without_partials_and_file_chunks(tmp_path):
    import soundfile

    samples, _ = digits_with_pauses()
    path = tmp_path / "digits.wav"
    soundfile.write(path, samples, SAMPLE_RATE)
    chunks = list(file_chunks(path, chunk_ms=30, realtime=False, tail_silence_ms=500))
    assert all(len(c) == 480 for c in chunks[:-1])
    assert sum(len(c) for c in chunks) == len(samples) + SAMPLE_RATE // 2
    fake = FakeTranscriber()
    recognizer = StreamingRecognizer(fake, partial_interval_ms=None)
    events = [e for c in chunks for e in recognizer.feed(c)] + recognizer.flush()
    assert [e.type for e in events] == ["final"] * 3
    assert len(fake.calls) == 3
