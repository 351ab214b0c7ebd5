"""Training-time augmentation: speed perturbation, gain, additive noise, SpecAugment.

All of it is off at evaluation time: the trainer calls these only on training batches.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

import torch
import torchaudio


@dataclass(frozen=True)
class AugmentConfig:
    speeds: tuple[float, ...] = (0.9, 1.0, 1.1)
    gain_db: float = 6.0
    noise_prob: float = 0.5
    snr_db: tuple[float, float] = (10.0, 40.0)
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
        valid = (torch.arange(samples.shape[1])[None, :] < lengths[:, None]).to(samples.dtype)
        gain = 10 ** (torch.empty(batch, 1).uniform_(-self.config.gain_db, self.config.gain_db) / 20)
        samples = samples * gain
        power = (samples**2).sum(1, keepdim=True) / lengths[:, None].clamp_min(1)
        snr_db = torch.empty(batch, 1).uniform_(*self.config.snr_db)
        use_noise = (torch.rand(batch, 1) < self.config.noise_prob).to(samples.dtype)
        noise = torch.randn_like(samples) * torch.sqrt(power / 10 ** (snr_db / 10)) * use_noise
        return (samples + noise) * valid, lengths


class SpecAugment(torch.nn.Module):
    """Frequency and time masks on features (batch, frames, n_mels), torchaudio's transforms."""

    def __init__(self, config: AugmentConfig):
        super().__init__()
        self.freq = torchaudio.transforms.FrequencyMasking(config.freq_mask_bins, iid_masks=True)
        self.time = torchaudio.transforms.TimeMasking(config.time_mask_frames, iid_masks=True, p=0.2)
        self.config = config

    def forward(self, features: torch.Tensor, fill: torch.Tensor) -> torch.Tensor:
        """Masked cells take `fill` (n_mels,), the per-bin training mean, which normalizes to zero."""
        x = (features - fill).transpose(1, 2).unsqueeze(1)  # (batch, 1, n_mels, frames)
        for _ in range(self.config.freq_masks):
            x = self.freq(x)
        for _ in range(self.config.time_masks):
            x = self.time(x)
        return x.squeeze(1).transpose(1, 2) + fill
