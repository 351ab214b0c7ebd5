"""The acoustic model: conv time subsampling -> bidirectional RNN stack -> linear -> log-probs.

A plain nn.Module that knows nothing of CTC loss, optimizers or decoding.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from .features import NORMALIZATIONS, FeatureNormalizer, mask_padding

RNN_TYPES = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int = 29
    n_mels: int = 80
    conv_channels: int = 256
    subsampling: int = 3
    rnn_type: str = "lstm"
    hidden_size: int = 256  # the bundled en-small: 2 conv + 3 x 256 BiLSTM, 4.52 M parameters
    num_layers: int = 3
    dropout: float = 0.15
    normalization: str = "global"  # or "utterance": features.FeatureNormalizer

    def __post_init__(self):
        if self.rnn_type not in RNN_TYPES:
            raise ValueError(f"rnn_type must be one of {sorted(RNN_TYPES)}, not {self.rnn_type!r}")
        if self.normalization not in NORMALIZATIONS:
            raise ValueError(f"normalization must be one of {', '.join(NORMALIZATIONS)}, not {self.normalization!r}")

    def to_dict(self) -> dict:
        return asdict(self)


def reverse_within_lengths(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each sequence of (batch, time, dim) over its own first `length` frames.

    Padding frames stay where they are, so a backward RNN run over the result
    starts at each sequence's true last frame and never sees padding. Applying
    it twice is the identity.
    """
    time = torch.arange(x.shape[1], device=x.device)[None, :]
    lengths = lengths.to(x.device)[:, None]
    index = torch.where(time < lengths, lengths - 1 - time, time)
    return x.gather(1, index[:, :, None].expand_as(x))


class BidirectionalLayer(nn.Module):
    """One bidirectional RNN layer built from two unidirectional RNNs on padded tensors.

    Exact like a packed bidirectional RNN (padding never reaches the backward
    direction), but it trains about 12x faster on CPU: packed sequences spend
    their backward pass in many tiny per-timestep products
    (../shared/notes/cpu-lstm-speed.md).
    """

    def __init__(self, rnn_type: str, input_size: int, hidden_size: int):
        super().__init__()
        rnn = RNN_TYPES[rnn_type]
        self.forward_rnn = rnn(input_size, hidden_size, batch_first=True)
        self.backward_rnn = rnn(input_size, hidden_size, batch_first=True)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(batch, time, input_size) -> (batch, time, 2 * hidden_size)."""
        forward_out, _ = self.forward_rnn(x)
        backward_out, _ = self.backward_rnn(reverse_within_lengths(x, lengths))
        return torch.cat([forward_out, reverse_within_lengths(backward_out, lengths)], dim=-1)


def subsampled_frames(frames, subsampling: int):
    """Output frames of ConvSubsampling for `frames` input frames (int or tensor): conv1's kernel 5, padding 2."""
    return (frames + 2 * 2 - 5) // subsampling + 1


class ConvSubsampling(nn.Module):
    """Two 1-D convolutions over time; the first strides by `subsampling`."""

    def __init__(self, n_mels: int, channels: int, subsampling: int):
        super().__init__()
        self.subsampling = subsampling
        self.conv1 = nn.Conv1d(n_mels, channels, kernel_size=5, stride=subsampling, padding=2)
        self.conv2 = nn.Conv1d(channels, channels, kernel_size=3, padding=1)
        self.activation = nn.GELU()

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        return subsampled_frames(lengths, self.subsampling)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor):
        """(batch, frames, n_mels) -> (batch, frames / subsampling, channels), out_lengths."""
        out_lengths = self.output_lengths(lengths)
        x = self.activation(self.conv1(x.transpose(1, 2))).transpose(1, 2)
        # Zero the padded frames again, so a sequence's output does not depend on its batch.
        x = mask_padding(x, out_lengths)
        x = self.activation(self.conv2(x.transpose(1, 2))).transpose(1, 2)
        return mask_padding(x, out_lengths), out_lengths


class AcousticModel(nn.Module):
    """(features (batch, frames, n_mels), lengths) -> (log_probs (batch, out_frames, vocab), out_lengths)."""

    def __init__(self, config: ModelConfig = ModelConfig()):
        super().__init__()
        self.config = config
        self.normalizer = FeatureNormalizer(config.n_mels, config.normalization)
        self.subsampling = ConvSubsampling(config.n_mels, config.conv_channels, config.subsampling)
        sizes = [config.conv_channels] + [2 * config.hidden_size] * (config.num_layers - 1)
        self.layers = nn.ModuleList(BidirectionalLayer(config.rnn_type, size, config.hidden_size) for size in sizes)
        # LayerNorm in front of every recurrent layer and the output keeps the scale of each layer's input
        # fixed; without it the deeper stacks sat on the CTC loss plateau (about 2.8) for hundreds of steps.
        self.norms = nn.ModuleList(nn.LayerNorm(size) for size in [*sizes, 2 * config.hidden_size])
        self.dropout = nn.Dropout(config.dropout)
        self.output = nn.Linear(2 * config.hidden_size, config.vocab_size)

    @property
    def frame_shift_factor(self) -> int:
        """Feature frames per output frame."""
        return self.config.subsampling

    def forward(self, features: torch.Tensor, lengths: torch.Tensor):
        x = mask_padding(self.normalizer(features, lengths), lengths)
        x, lengths = self.subsampling(x, lengths)
        for norm, layer in zip(self.norms, self.layers):
            x = layer(self.dropout(norm(x)), lengths)
        log_probs = self.output(self.dropout(self.norms[-1](x))).log_softmax(dim=-1)
        return log_probs, lengths
