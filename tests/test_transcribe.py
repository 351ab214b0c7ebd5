import numpy as np
import pytest
import soundfile

from conftest import ASSETS
from speech2text import AudioError, Transcriber, load_audio
from speech2text.transcribe import split_at_pauses, windows_at_pauses


@pytest.fixture(scope="module")
def transcriber():
    return Transcriber.from_pretrained()


def test_split_at_pauses_cuts_in_the_quietest_place():
    rng = np.random.default_rng(0)
    samples = (0.1 * rng.standard_normal(16000 * 70)).astype(np.float32)
    samples[16000 * 27 : 16000 * 27 + 3200] = 0  # a 200 ms pause 27 s in
    bounds = split_at_pauses(samples, max_window_s=30)
    assert bounds[0][0] == 0 and bounds[-1][1] == len(samples)
    assert all(end == start for (_, end), (start, _) in zip(bounds, bounds[1:]))
    assert all(end - start <= 30 * 16000 for start, end in bounds)
    assert 27 * 16000 <= bounds[0][1] <= 27 * 16000 + 3200
    assert split_at_pauses(samples[:16000]) == [(0, 16000)]


def test_windows_from_blocks_equal_windows_from_the_whole_signal():
    """Reading a file block by block cuts it exactly where cutting the whole array does."""
    rng = np.random.default_rng(1)
    samples = (0.1 * rng.standard_normal(16000 * 95)).astype(np.float32)
    samples[16000 * 50 : 16000 * 50 + 1600] = 0
    edges = np.sort(rng.choice(len(samples), 40, replace=False))
    blocks = np.split(samples, edges)
    streamed = [(start, start + len(window)) for start, window in windows_at_pauses(blocks)]
    assert streamed == split_at_pauses(samples)
    joined = np.concatenate([window for _, window in windows_at_pauses(blocks)])
    np.testing.assert_array_equal(joined, samples)


def test_the_bundled_model_describes_itself(transcriber):
    assert transcriber.sample_rate == 16000
    assert transcriber.labels[:3] == ("<blank>", " ", "a")
    assert transcriber.frame_shift_s == pytest.approx(0.03)
    assert transcriber.metadata["train_hours"] > 1


def test_array_and_file_give_the_same_transcript(transcriber):
    path = ASSETS / "what_is_your_name.wav"
    assert transcriber.transcribe(load_audio(path)) == transcriber.transcribe(path)


def test_the_recording_level_does_not_change_the_transcript(transcriber):
    """The bundled model's frontend moves every input's speech level to one target (FeatureConfig.level_db),
    so a microphone 15 dB quieter or 6 dB louder than the recordings it learned from is heard the same."""
    assert transcriber.backend.feature_config.level_db is not None
    for path in sorted(ASSETS.glob("*.wav")) + sorted(ASSETS.glob("*.flac")):
        samples = load_audio(path)
        as_recorded = transcriber.transcribe(samples)
        for gain_db in (-15, 6):
            other = transcriber.transcribe(samples * np.float32(10 ** (gain_db / 20)))
            assert other.text == as_recorded.text, (path.name, gain_db)
            assert [(w.start_s, w.end_s) for w in other.words] == [(w.start_s, w.end_s) for w in as_recorded.words]


def test_batched_equals_one_by_one(transcriber):
    signals = [load_audio(p) for p in sorted(ASSETS.glob("*.wav")) + sorted(ASSETS.glob("*.flac"))]
    batched = transcriber.transcribe_samples(signals)
    single = [transcriber.transcribe_samples([s])[0] for s in signals]
    assert [t.text for t in batched] == [t.text for t in single]
    for a, b in zip(batched, single):
        assert [(w.start_s, w.end_s) for w in a.words] == [(w.start_s, w.end_s) for w in b.words]
        np.testing.assert_allclose([w.confidence for w in a.words], [w.confidence for w in b.words], atol=1e-3)


def test_long_audio_keeps_global_timestamps(transcriber, tmp_path):
    """Over a minute of audio: the query at 62 s comes out, stamped at 62 s, not at its window's offset."""
    query = load_audio(ASSETS / "weather_in_paris.flac")
    samples = np.zeros(16000 * 66, np.float32)
    samples[16000 * 62 : 16000 * 62 + len(query)] = query
    samples[16000 * 5 : 16000 * 5 + len(query)] = query
    transcript = transcriber.transcribe(samples)
    # Each window decoded on its own, its word times moved by the window's start: what the whole must say.
    windows = [(start / 16000, transcriber.transcribe(samples[start:end])) for start, end in split_at_pauses(samples)]
    assert len(windows) > 2 and transcript.text == " ".join(t.text for _, t in windows if t.text)
    shifted = [(w.text, round(offset_s + w.start_s, 3), round(offset_s + w.end_s, 3))
               for offset_s, t in windows for w in t.words]
    assert [(w.text, w.start_s, w.end_s) for w in transcript.words] == shifted
    assert transcript.duration_s == 66.0
    soundfile.write(tmp_path / "long.flac", samples, 16000)
    assert transcriber.transcribe(tmp_path / "long.flac") == transcript  # read and decoded block by block
    first = transcript.words[0]
    second = next(w for w in transcript.words if w.start_s > 30)  # the first word of the second query
    assert 4.9 <= first.start_s <= 5.5
    assert 61.9 <= second.start_s <= 62.5


def test_empty_array_is_an_audio_error(transcriber):
    with pytest.raises(AudioError):
        transcriber.transcribe(np.zeros(0, np.float32))


def test_stream_api_yields_a_final_per_utterance(transcriber, tmp_path):
    import soundfile

    pause = np.zeros(16000, np.float32)
    queries = [load_audio(ASSETS / "weather_in_paris.flac"), load_audio(ASSETS / "what_is_your_name.wav")]
    path = tmp_path / "two.wav"
    soundfile.write(path, np.concatenate([pause, queries[0], pause, queries[1], pause]), 16000)
    events = list(transcriber.stream(path))
    finals = [e for e in events if e.type == "final"]
    assert len(finals) == 2 and finals[0].end_s < finals[1].start_s
    # Each final is the LM decode of exactly its utterance's samples (pre-roll included).
    streamed = np.concatenate([soundfile.read(path, dtype="float32")[0], np.zeros(16000, np.float32)])  # + tail
    for final in finals:
        utterance = streamed[round(final.start_s * 16000) : round(final.end_s * 16000)]
        assert final.text == transcriber.transcribe_samples([utterance])[0].text and final.text
    assert all(e.type in ("partial", "final") for e in events)
