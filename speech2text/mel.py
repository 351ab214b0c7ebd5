"""The log-mel filterbank, owned here and nowhere else: numpy only, so that inference without torch, the
torch frontend (features.LogMel takes its filters from mel_filterbank) and training augmentation
(augment.py's channel simulation works on the mel scale) share one definition.
"""

from __future__ import annotations

import functools

import numpy as np

# Speech level normalization (features.FeatureConfig.level_db). The level of an input is the 95th
# percentile of its frames' mean mel power, in dB: the loud, voiced part of the speech, whatever share
# of the input is silence. The gain that moves it to the target is capped, so that a window of room
# noise is not raised to the loudness of speech: 3 s of white or low-passed noise at -70 to -30 dBFS, 40
# inputs, came out as 3 words without the normalization, 6 with a cap of 20 dB, 9 with 30; the dev sets
# scored the same with either cap (git history of recipes/default_model/README.md, 2026-12-06).
LEVEL_PERCENTILE = 95.0
MAX_LEVEL_GAIN_DB = 20.0


def speech_level_db(frame_power: np.ndarray) -> float:
    """The level of (frames,) mean mel powers, in dB (see LEVEL_PERCENTILE)."""
    return float(10 * np.log10(np.percentile(frame_power.astype(np.float64), LEVEL_PERCENTILE) + 1e-20))


def level_gain_db(frame_power: np.ndarray, level_db: float) -> float:
    """The gain in dB, within +-MAX_LEVEL_GAIN_DB, that brings (frames,) mean mel powers to `level_db`."""
    return float(np.clip(level_db - speech_level_db(frame_power), -MAX_LEVEL_GAIN_DB, MAX_LEVEL_GAIN_DB))


def hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above (as torchaudio and librosa)."""
    hz = np.asarray(hz, np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(hz >= min_log_hz, min_log_mel + np.log(np.maximum(hz, 1e-10) / min_log_hz) / logstep, hz / f_sp)


def mel_to_hz(mel: np.ndarray) -> np.ndarray:
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(mel >= min_log_mel, min_log_hz * np.exp(logstep * (mel - min_log_mel)), f_sp * mel)


def slaney_mel_points(sample_rate: int, n_mels: int) -> np.ndarray:
    """The n_mels + 2 points, evenly spaced in mel from 0 Hz to Nyquist: filter m rises from point m,
    peaks at point m + 1 (its center) and falls to point m + 2."""
    return np.linspace(hz_to_mel(0.0), hz_to_mel(sample_rate / 2), n_mels + 2)


@functools.cache
def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    """(n_fft // 2 + 1, n_mels) triangular filters, Slaney scale and area norm: torchaudio's melscale_fbanks."""
    all_freqs = np.linspace(0, sample_rate // 2, n_fft // 2 + 1)
    hz_points = mel_to_hz(slaney_mel_points(sample_rate, n_mels))
    spacing = np.diff(hz_points)
    slopes = hz_points[None, :] - all_freqs[:, None]
    rising, falling = -slopes[:, :-2] / spacing[:-1], slopes[:, 2:] / spacing[1:]
    filters = np.maximum(0.0, np.minimum(rising, falling))
    filters *= 2.0 / (hz_points[2 : n_mels + 2] - hz_points[:n_mels])  # equal area
    return filters.astype(np.float32)


def log_mel(samples: np.ndarray, config: dict) -> np.ndarray:
    """Float32 samples (samples,) -> log-mel features (frames, n_mels), as features.LogMel computes them.

    Centered STFT with zero padding, a periodic Hann window of win_length centered in
    n_fft, power spectrum, mel filters, the speech level moved to `level_db` when the
    config has one, log with a floor. Written here because the
    only maintained implementations (torchaudio, librosa) pull in torch or numba;
    tests/test_runtime.py holds it to LogMel's output and tests/test_features.py to librosa.
    """
    n_fft, win_length, hop_length = config["n_fft"], config["win_length"], config["hop_length"]
    window = np.zeros(n_fft, np.float32)
    left = (n_fft - win_length) // 2
    window[left : left + win_length] = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win_length) / win_length)
    padded = np.pad(samples.astype(np.float32, copy=False), n_fft // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop_length]
    power = np.abs(np.fft.rfft(frames * window, axis=-1)) ** 2
    mel = power.astype(np.float32) @ mel_filterbank(config["sample_rate"], n_fft, config["n_mels"])
    if config.get("level_db") is not None:  # exports made before level normalization have no such key
        mel *= np.float32(10 ** (level_gain_db(mel.mean(1), config["level_db"]) / 10))
    return np.log(np.maximum(mel, config["log_floor"]))
