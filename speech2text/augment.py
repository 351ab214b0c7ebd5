"""Training-time augmentation: speed perturbation, gain, additive noise, reverberation, telephone band,
vocal tract length perturbation, microphone colouring and SpecAugment.

All of it is off at evaluation time: the trainer calls these only on training batches.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torchaudio

from .audio import SAMPLE_RATE
from .features import mask_padding
from .mel import hz_to_mel, mel_to_hz, slaney_mel_points

TELEPHONE_RATE = 8_000


@dataclass(frozen=True)
class AugmentConfig:
    speeds: tuple[float, ...] = (0.9, 1.0, 1.1)
    gain_db: float = 6.0
    noise_prob: float = 0.5
    snr_db: tuple[float, float] = (10.0, 40.0)
    # Off by default; they make a model trained on clean close-talk speech meet real rooms and phones.
    reverb_prob: float = 0.0  # convolve with a synthetic room response decaying 60 dB in rt60_s
    rt60_s: tuple[float, float] = (0.2, 0.8)
    telephone_prob: float = 0.0  # band-limit to a telephone's 4 kHz: down to 8 kHz and back
    # Vocal tract length perturbation: each utterance's spectrum stretched by a factor drawn from this
    # range (1.0, 1.0 is off). Above 1 moves formants up, as from a man's voice towards a woman's.
    vtlp: tuple[float, float] = (1.0, 1.0)
    # Microphone colouring: each utterance's spectrum tilted, boosted and cut by a smooth random curve
    # whose largest boost or cut is up to this many dB (0 is off). A microphone, its preamp and the room
    # colour speech by a fixed curve like this, which global feature statistics do not take out.
    eq_db: float = 0.0
    freq_masks: int = 2
    freq_mask_bins: int = 15
    time_masks: int = 2
    time_mask_frames: int = 40

    def to_dict(self) -> dict:
        return asdict(self)


class WaveAugment:
    """Augments a padded batch of samples (batch, n) and its lengths."""

    def __init__(self, config: AugmentConfig, rng: random.Random):
        self.config = config
        self.rng = rng

    def __call__(self, samples: torch.Tensor, lengths: torch.Tensor):
        speed = self.rng.choice(self.config.speeds)
        if speed != 1.0:
            # Resampling from 10*speed to 10 Hz and playing back at the old rate changes tempo and pitch by `speed`.
            orig = round(10 * speed)
            samples = torchaudio.functional.resample(samples, orig, 10)
            lengths = (lengths * 10) // orig
            samples = samples[:, : int(lengths.max())]
        batch = samples.shape[0]
        if self.config.reverb_prob:
            samples = self._choose(samples, self._reverberate(samples), self.config.reverb_prob)
        if self.config.telephone_prob:
            narrow = torchaudio.functional.resample(samples, SAMPLE_RATE, TELEPHONE_RATE)
            narrow = torchaudio.functional.resample(narrow, TELEPHONE_RATE, SAMPLE_RATE)[:, : samples.shape[1]]
            samples = self._choose(samples, narrow, self.config.telephone_prob)
        valid = (torch.arange(samples.shape[1])[None, :] < lengths[:, None]).to(samples.dtype)
        gain = 10 ** (torch.empty(batch, 1).uniform_(-self.config.gain_db, self.config.gain_db) / 20)
        samples = samples * gain
        power = (samples**2).sum(1, keepdim=True) / lengths[:, None].clamp_min(1)
        snr_db = torch.empty(batch, 1).uniform_(*self.config.snr_db)
        use_noise = (torch.rand(batch, 1) < self.config.noise_prob).to(samples.dtype)
        noise = torch.randn_like(samples) * torch.sqrt(power / 10 ** (snr_db / 10)) * use_noise
        return (samples + noise) * valid, lengths


    @staticmethod
    def _choose(samples: torch.Tensor, changed: torch.Tensor, prob: float) -> torch.Tensor:
        """Per utterance, `changed` with probability `prob`, else `samples`."""
        return torch.where(torch.rand(samples.shape[0], 1) < prob, changed, samples)

    def _reverberate(self, samples: torch.Tensor) -> torch.Tensor:
        """(batch, n) convolved with one synthetic room impulse response per utterance, cut to n samples.

        The response is the direct sound followed by Gaussian noise under an exponential envelope
        that falls 60 dB in RT60 seconds (the classic statistical model of a diffuse late reverb),
        scaled to unit energy so that the level stays where it was.
        """
        rt60_s = torch.empty(samples.shape[0], 1).uniform_(*self.config.rt60_s)
        t = torch.arange(int(self.config.rt60_s[1] * SAMPLE_RATE)) / SAMPLE_RATE
        response = torch.randn(samples.shape[0], len(t)) * torch.exp(-6.9 * t / rt60_s)  # e^-6.9 = -60 dB
        response[:, 0] = 1.0
        response = response / response.norm(dim=1, keepdim=True)
        return torchaudio.functional.fftconvolve(samples, response)[:, : samples.shape[1]]


def vtlp_source_bins(alpha: float, n_mels: int, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """For each mel bin of a spectrum warped by `alpha`, the fractional mel bin of the original it reads.

    The warp of Jaitly and Hinton (2013, "Vocal Tract Length Perturbation improves speech
    recognition"): frequency f comes from f / alpha up to a boundary at 80% of Nyquist, then a
    straight line that keeps Nyquist in place, so no band is lost or invented at the top.
    torchaudio has no VTLP; on log-mel features it is this one interpolation along the mel axis.
    """
    nyquist = sample_rate / 2
    centers_mel = slaney_mel_points(sample_rate, n_mels)[1:-1]
    centers_hz = mel_to_hz(centers_mel)
    boundary = 0.8 * nyquist
    source_hz = np.where(
        centers_hz <= boundary,
        centers_hz / alpha,
        boundary / alpha + (centers_hz - boundary) * (nyquist - boundary / alpha) / (nyquist - boundary),
    )
    return np.interp(hz_to_mel(source_hz), centers_mel, np.arange(n_mels))


EQ_ORDERS = 4  # cosines over the mel axis: a tilt, a bump, and two finer wiggles (a resonance, a dip)


def random_equalizer(batch: int, n_mels: int, max_db: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """(batch, n_mels) random smooth gain curves over the mel bins, in log power units (natural log, as
    the features are), each scaled so that its largest boost or cut is uniform in 0..max_db dB.

    Each curve is a sum of the first EQ_ORDERS cosines along the mel axis with normal weights falling as
    1/order, so that tilts and broad bumps are commoner than narrow ones, as in real microphones.
    Neither torchaudio nor librosa draws random equalizers; this is a few lines of torch.
    """
    position = torch.linspace(0, 1, n_mels)
    orders = torch.arange(1, EQ_ORDERS + 1, dtype=torch.float32)
    basis = torch.cos(torch.pi * orders[:, None] * position[None, :])  # (orders, n_mels)
    weights = torch.randn(batch, EQ_ORDERS, generator=generator) / orders
    curves = weights @ basis
    peak_db = torch.rand(batch, 1, generator=generator) * max_db
    curves = curves / curves.abs().amax(1, keepdim=True).clamp_min(1e-6) * peak_db
    return curves * (torch.log(torch.tensor(10.0)) / 10)  # dB of power -> natural log of power


def warp_vocal_tract(features: torch.Tensor, alphas: list[float]) -> torch.Tensor:
    """Each utterance of (batch, frames, n_mels) log-mel features with its spectrum stretched by alphas[i]."""
    n_mels = features.shape[-1]
    source = torch.tensor(np.stack([vtlp_source_bins(a, n_mels) for a in alphas]), dtype=features.dtype,
                          device=features.device)[:, None, :].expand(*features.shape)  # (batch, frames, n_mels)
    low = source.floor().long().clamp_max(n_mels - 1)
    high = (low + 1).clamp_max(n_mels - 1)
    weight = source - low
    return features.gather(2, low) * (1 - weight) + features.gather(2, high) * weight


class SpecAugment(torch.nn.Module):
    """Vocal tract length perturbation, microphone colouring, then torchaudio's frequency and time masks,
    on (batch, frames, n_mels)."""

    def __init__(self, config: AugmentConfig, rng: random.Random | None = None):
        super().__init__()
        self.freq = torchaudio.transforms.FrequencyMasking(config.freq_mask_bins, iid_masks=True)
        self.time = torchaudio.transforms.TimeMasking(config.time_mask_frames, iid_masks=True, p=0.2)
        self.config = config
        self.rng = rng or random.Random(0)

    def forward(self, features: torch.Tensor, fill: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Masked cells take `fill` (n_mels,), the per-bin training mean, which normalizes to zero.
        Frames at or past `lengths` (batch,) stay as they are (padding)."""
        if tuple(self.config.vtlp) != (1.0, 1.0):
            features = warp_vocal_tract(features, [self.rng.uniform(*self.config.vtlp) for _ in features])
        if self.config.eq_db:
            generator = torch.Generator().manual_seed(self.rng.getrandbits(63))
            curves = random_equalizer(features.shape[0], features.shape[2], self.config.eq_db, generator)
            colour = curves.to(features.device, features.dtype)[:, None, :].expand_as(features)
            features = features + (colour if lengths is None else mask_padding(colour, lengths))
        x = (features - fill).transpose(1, 2).unsqueeze(1)  # (batch, 1, n_mels, frames)
        for _ in range(self.config.freq_masks):
            x = self.freq(x)
        for _ in range(self.config.time_masks):
            x = self.time(x)
        return x.squeeze(1).transpose(1, 2) + fill
