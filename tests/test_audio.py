import io
import subprocess
import sys

import numpy as np
import pytest
import soundfile

from speech2text.audio import SAMPLE_RATE, AudioError, check_not_silent, load_audio, read_blocks


@pytest.mark.parametrize(
    "suffix, fmt, subtype",
    [
        ("wav", "WAV", "PCM_16"),
        ("wav", "WAV", "PCM_24"),
        ("wav", "WAV", "PCM_U8"),
        ("wav", "WAV", "FLOAT"),
        ("flac", "FLAC", "PCM_16"),
        ("ogg", "OGG", "VORBIS"),
        ("mp3", "MP3", "MPEG_LAYER_III"),
    ],
)
def test_formats_decode_to_the_same_signal(tmp_path, speechlike, suffix, fmt, subtype):
    path = tmp_path / f"x.{suffix}"
    soundfile.write(path, speechlike, SAMPLE_RATE, format=fmt, subtype=subtype)
    samples = load_audio(path)
    assert samples.dtype == np.float32 and samples.ndim == 1
    # Lossy codecs add a few ms of padding and some error; PCM is exact to its quantization.
    assert abs(len(samples) - len(speechlike)) <= 0.1 * SAMPLE_RATE
    if fmt in ("WAV", "FLAC"):
        tolerance = 1 / 2**6 if subtype == "PCM_U8" else 1e-4
        np.testing.assert_allclose(samples, speechlike, atol=tolerance)


def test_stereo_is_mixed_to_mono(tmp_path, speechlike):
    stereo = np.stack([speechlike, np.zeros_like(speechlike)], axis=1)
    soundfile.write(tmp_path / "s.wav", stereo, SAMPLE_RATE, subtype="FLOAT")
    np.testing.assert_allclose(load_audio(tmp_path / "s.wav"), speechlike / 2, atol=1e-7)


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_any_rate_is_resampled_to_16k(tmp_path, rate):
    t = np.arange(rate) / rate
    soundfile.write(tmp_path / "t.wav", (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate, subtype="FLOAT")
    samples = load_audio(tmp_path / "t.wav")
    assert len(samples) == SAMPLE_RATE
    spectrum = np.abs(np.fft.rfft(samples))
    assert np.argmax(spectrum) == 440  # 1 s of signal: bin k is k Hz


def test_bytes_and_stdin(tmp_path, speechlike):
    path = tmp_path / "x.flac"
    soundfile.write(path, speechlike, SAMPLE_RATE)
    np.testing.assert_allclose(load_audio(path.read_bytes()), load_audio(path))
    code = "import sys; from speech2text.audio import load_audio; print(len(load_audio('-')))"
    out = subprocess.run([sys.executable, "-c", code], input=path.read_bytes(), capture_output=True, check=True)
    assert int(out.stdout) == len(speechlike)


def _truncated(tmp_path, speechlike):
    buffer = io.BytesIO()
    soundfile.write(buffer, speechlike, SAMPLE_RATE, format="FLAC")
    return buffer.getvalue()[:60]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d, s: None, "no such file"),
        (lambda d, s: b"", "empty file"),
        (lambda d, s: b"this is not audio at all\n" * 20, "not a readable audio file"),
        (_truncated, "not a readable audio file|no samples"),
    ],
    ids=["missing", "empty", "not-audio", "truncated"],
)
def test_bad_files_raise_audio_error(tmp_path, speechlike, make, message):
    path = tmp_path / "bad.wav"
    content = make(tmp_path, speechlike)
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(AudioError, match=message):
        load_audio(path)


def test_zero_length_and_nan_audio(tmp_path):
    soundfile.write(tmp_path / "zero.wav", np.zeros(0, np.float32), SAMPLE_RATE)
    with pytest.raises(AudioError, match="no samples"):
        load_audio(tmp_path / "zero.wav")
    nan = np.full(1600, np.nan, np.float32)
    soundfile.write(tmp_path / "nan.wav", nan, SAMPLE_RATE, subtype="FLOAT")
    with pytest.raises(AudioError, match="NaN"):
        load_audio(tmp_path / "nan.wav")


def test_silence_is_detected():
    with pytest.raises(AudioError, match="silent"):
        check_not_silent(np.zeros(16000, np.float32))
    check_not_silent(np.full(16000, 1e-3, np.float32))


@pytest.mark.parametrize("rate, channels", [(16000, 1), (44100, 2)])
def test_blocks_join_into_the_loaded_signal(tmp_path, speechlike, rate, channels):
    """read_blocks streams what load_audio reads at once; the streaming resampler (soxr) leaves no seams."""
    signal = librosa_resample(speechlike, rate)
    path = tmp_path / "x.flac"
    soundfile.write(path, np.stack([signal] * channels, axis=1), rate, subtype="PCM_24")
    joined = np.concatenate(list(read_blocks(path, block_s=0.25)))
    whole = load_audio(path)
    if rate == SAMPLE_RATE:
        np.testing.assert_array_equal(joined, whole)
    else:  # two good resamplers: the same signal to well within -40 dB
        assert abs(len(joined) - len(whole)) <= 1
        n = min(len(joined), len(whole))
        assert np.sqrt(np.mean((joined[:n] - whole[:n]) ** 2)) < 0.01 * np.sqrt(np.mean(whole**2))


def librosa_resample(samples, rate):
    import librosa

    return librosa.resample(samples, orig_sr=SAMPLE_RATE, target_sr=rate) if rate != SAMPLE_RATE else samples


def test_blocks_raise_the_same_errors(tmp_path):
    with pytest.raises(AudioError, match="no such file"):
        list(read_blocks(tmp_path / "missing.wav"))
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioError, match="empty file"):
        list(read_blocks(tmp_path / "empty.wav"))
    bad = np.zeros(16000, np.float32)
    bad[12000] = np.nan
    soundfile.write(tmp_path / "nan.wav", bad, SAMPLE_RATE, subtype="FLOAT")
    with pytest.raises(AudioError, match="NaN"):
        list(read_blocks(tmp_path / "nan.wav", block_s=0.5))
    soundfile.write(tmp_path / "zero.wav", np.zeros(0, np.float32), SAMPLE_RATE)
    with pytest.raises(AudioError, match="no samples"):
        list(read_blocks(tmp_path / "zero.wav"))
