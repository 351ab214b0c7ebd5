"""Log-mel features: 80 mel bins, 25 ms windows every 10 ms (torchaudio transforms)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torchaudio
from torch import nn

from .audio import SAMPLE_RATE
from .mel import LEVEL_PERCENTILE, MAX_LEVEL_GAIN_DB, mel_filterbank

# The speech level (mel.speech_level_db) every input is moved to. The bundled model's training sources
# sit at medians of -6.0 (LJ Speech) to -11.6 dB (its copies in simulated rooms), -9.3 dB weighted as
# config.toml weights them; recordings from other microphones and gains sit as much as 30 dB below. -6
# was the best of -3 to -12 dB in steps of 1.5 on the bundled model's dev sets (git history of
# recipes/default_model/README.md, 2026-12-06).
SPEECH_LEVEL_DB = -6.0


@dataclass(frozen=True)
class FeatureConfig:
    sample_rate: int = SAMPLE_RATE
    n_mels: int = 80
    win_ms: float = 25.0
    hop_ms: float = 10.0
    n_fft: int = 512
    log_floor: float = 1e-6
    # Every input's speech level is moved to this many dB before the log (mel.level_gain_db); None keeps
    # the level as recorded. Checkpoints from before this option load with None (checkpoint.py).
    level_db: float | None = SPEECH_LEVEL_DB

    @property
    def win_length(self) -> int:
        return int(round(self.sample_rate * self.win_ms / 1000))

    @property
    def hop_length(self) -> int:
        return int(round(self.sample_rate * self.hop_ms / 1000))

    def num_frames(self, num_samples: torch.Tensor | int):
        """Frames that a signal of `num_samples` yields (centered STFT)."""
        return num_samples // self.hop_length + 1

    def to_dict(self) -> dict:
        return asdict(self)


class LogMel(nn.Module):
    """Samples (batch, samples) -> log-mel features (batch, frames, n_mels).

    Slaney mel scale and area normalization, like librosa's defaults, so the
    features can be checked against librosa.feature.melspectrogram.
    """

    def __init__(self, config: FeatureConfig = FeatureConfig()):
        super().__init__()
        self.config = config
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=config.sample_rate,
            n_fft=config.n_fft,
            win_length=config.win_length,
            hop_length=config.hop_length,
            n_mels=config.n_mels,
            power=2.0,
            center=True,
            pad_mode="constant",
            norm="slaney",
            mel_scale="slaney",
        )
        # torchaudio computes the STFT; the filters are speech2text.mel's, the same matrix the torch-free
        # runtime uses, so that the two frontends cannot drift apart.
        filters = mel_filterbank(config.sample_rate, config.n_fft, config.n_mels)
        self.mel.mel_scale.fb.copy_(torch.from_numpy(filters))

    def forward(self, samples: torch.Tensor, sample_lengths: torch.Tensor | None = None):
        """Returns (features, frame_lengths); frames past each length are zero."""
        if sample_lengths is None:
            sample_lengths = torch.full((samples.shape[0],), samples.shape[1], dtype=torch.long)
        frame_lengths = self.config.num_frames(sample_lengths)
        mel = self.mel(samples)  # (batch, n_mels, frames)
        if self.config.level_db is not None:
            mel = mel * level_gains(mel.mean(1), frame_lengths, self.config.level_db)[:, None, None]
        features = mel.clamp_min(self.config.log_floor).log().transpose(1, 2)
        return mask_padding(features, frame_lengths), frame_lengths


def level_gains(frame_power: torch.Tensor, frame_lengths: torch.Tensor, level_db: float) -> torch.Tensor:
    """(batch, frames) mean mel powers -> (batch,) power factors that move each utterance's speech level
    to `level_db`: mel.level_gain_db for a padded batch, counting only each utterance's own frames."""
    levels = torch.stack([torch.quantile(power[:n].double(), LEVEL_PERCENTILE / 100)
                          for power, n in zip(frame_power, frame_lengths.tolist())])
    gain_db = (level_db - 10 * torch.log10(levels + 1e-20)).clamp(-MAX_LEVEL_GAIN_DB, MAX_LEVEL_GAIN_DB)
    return (10 ** (gain_db / 10)).to(frame_power.dtype)


def mask_padding(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Zero every frame of (batch, time, ...) at or past its sequence's length."""
    valid = torch.arange(x.shape[1], device=x.device)[None, :] < lengths.to(x.device)[:, None]
    return x * valid.view(*valid.shape, *([1] * (x.dim() - 2))).to(x.dtype)


NORMALIZATIONS = ("global", "utterance")


class FeatureNormalizer(nn.Module):
    """Per-bin mean/std normalization; the statistics are buffers, so they travel in checkpoints.

    "global" subtracts the training set's mean of each bin; "utterance" subtracts each utterance's own
    mean over its valid frames (cepstral mean normalization: a microphone's frequency response and the
    recording level are a constant offset per bin of a log-mel spectrogram, and this removes them).
    Both divide by the training set's deviation.
    """

    def __init__(self, n_mels: int, mode: str = "global"):
        super().__init__()
        if mode not in NORMALIZATIONS:
            raise ValueError(f"normalization must be one of {', '.join(NORMALIZATIONS)}, not {mode!r}")
        self.mode = mode
        self.register_buffer("mean", torch.zeros(n_mels))
        self.register_buffer("std", torch.ones(n_mels))

    @torch.no_grad()
    def fit(self, features: torch.Tensor, lengths: torch.Tensor) -> None:
        """Set the statistics from a padded batch (batch, time, n_mels) of training features."""
        valid = torch.cat([f[:n] for f, n in zip(features, lengths)])
        self.mean.copy_(valid.mean(0))
        self.std.copy_(valid.std(0).clamp_min(1e-3))

    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if self.mode == "global":
            return (features - self.mean) / self.std
        valid = mask_padding(features, lengths)
        mean = valid.sum(1, keepdim=True) / lengths.clamp_min(1).to(features.dtype)[:, None, None]
        return (features - mean) / self.std
