"""Transcriber: the pretrained model bundle, and audio in -> Transcript out."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from .audio import SAMPLE_RATE, AudioError, load_audio
from .checkpoint import Checkpoint, load_checkpoint
from .decoding import Word, beam_decode, greedy_decode
from .features import LogMel

PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"
DEFAULT_MODEL = "en-small"
MAX_WINDOW_S = 30.0
SILENCE_SEARCH_S = 5.0


@dataclass(frozen=True)
class Transcript:
    text: str
    words: list[Word] = field(default_factory=list)
    duration_s: float = 0.0
    alternatives: list[tuple[str, float]] = field(default_factory=list)  # beam n-best: (text, log-prob)

    def to_dict(self) -> dict:
        return asdict(self)


def pretrained_models() -> list[str]:
    return sorted(p.stem for p in PRETRAINED_DIR.glob("*.pt"))


def resolve_model(path_or_name: str | Path | None) -> Path:
    """A model name (bundled) or a file path -> the checkpoint path."""
    if path_or_name is None:
        path_or_name = DEFAULT_MODEL
    if str(path_or_name) in pretrained_models():
        return PRETRAINED_DIR / f"{path_or_name}.pt"
    return Path(path_or_name)


def split_at_pauses(samples: np.ndarray, max_window_s: float = MAX_WINDOW_S) -> list[tuple[int, int]]:
    """Cut long audio into windows of at most `max_window_s`, each cut at the quietest 10 ms.

    The cut is searched in the last SILENCE_SEARCH_S seconds of every window, so
    words are rarely split and memory stays bounded however long the file is.
    Returns (start, end) sample indices.
    """
    window = int(max_window_s * SAMPLE_RATE)
    frame = SAMPLE_RATE // 100
    bounds, start = [], 0
    while len(samples) - start > window:
        search_start = start + window - int(SILENCE_SEARCH_S * SAMPLE_RATE)
        region = samples[search_start : start + window]
        energy = (region[: len(region) // frame * frame].reshape(-1, frame) ** 2).sum(axis=1)
        cut = search_start + int(np.argmin(energy)) * frame + frame // 2
        bounds.append((start, cut))
        start = cut
    bounds.append((start, len(samples)))
    return bounds


class Transcriber:
    """A loaded acoustic model with its feature frontend and vocabulary.

    >>> transcriber = Transcriber.from_pretrained()          # the bundled English model
    >>> transcriber.transcribe("assets/what_is_your_name.wav").text
    'what is your name'
    """

    def __init__(self, checkpoint: Checkpoint):
        self.model = checkpoint.model.eval()
        self.feature_config = checkpoint.feature_config
        self.frontend = LogMel(checkpoint.feature_config)
        self.vocabulary = checkpoint.vocabulary
        self.metadata = checkpoint.metadata

    @classmethod
    def from_pretrained(cls, path_or_name: str | Path | None = None, quantize: str | None = None) -> "Transcriber":
        """Load a bundled model by name (None: the default) or a checkpoint file.

        quantize="int8" applies dynamic int8 quantization to the LSTM and linear layers.
        """
        transcriber = cls(load_checkpoint(resolve_model(path_or_name)))
        if quantize == "int8":
            from .export import quantize_int8

            transcriber.model = quantize_int8(transcriber.model)
        elif quantize is not None:
            raise ValueError(f"quantize must be None or 'int8', not {quantize!r}")
        return transcriber

    @property
    def sample_rate(self) -> int:
        return self.feature_config.sample_rate

    @property
    def labels(self) -> tuple[str, ...]:
        return self.vocabulary.symbols

    @property
    def frame_shift_s(self) -> float:
        """Seconds per output frame of the model."""
        return self.feature_config.hop_ms / 1000 * self.model.frame_shift_factor

    @torch.inference_mode()
    def log_probs(self, batch: list[np.ndarray]):
        """Float32 sample arrays -> (log_probs (batch, frames, vocab), frame lengths)."""
        lengths = torch.tensor([len(s) for s in batch])
        samples = torch.nn.utils.rnn.pad_sequence([torch.from_numpy(s) for s in batch], batch_first=True)
        features, feature_lengths = self.frontend(samples, lengths)
        return self.model(features, feature_lengths)

    def transcribe_samples(
        self, samples_list: list[np.ndarray], batch_size: int = 8, decoder: str = "greedy", beam_size: int = 8
    ) -> list[Transcript]:
        """Transcribe several float32 16 kHz mono signals; long ones are cut at pauses first.

        Windows go through the model `batch_size` at a time, so memory is bounded by
        the batch, not by the length of the input. decoder: "greedy" or "beam"
        (prefix beam search; its n-best list is kept for inputs of one window).
        """
        if decoder not in ("greedy", "beam"):
            raise ValueError(f"decoder must be 'greedy' or 'beam', not {decoder!r}")
        windows, owners = [], []
        for owner, samples in enumerate(samples_list):
            for start, end in split_at_pauses(samples):
                windows.append((start, samples[start:end]))
                owners.append(owner)
        hypotheses = []
        for first in range(0, len(windows), batch_size):
            log_probs, lengths = self.log_probs([w for _, w in windows[first : first + batch_size]])
            if decoder == "beam":
                hypotheses += beam_decode(log_probs, lengths, self.vocabulary, self.frame_shift_s, beam_size)
            else:
                hypotheses += greedy_decode(log_probs, lengths, self.vocabulary, self.frame_shift_s)
        words: list[list[Word]] = [[] for _ in samples_list]
        for owner, (start, window), hypothesis in zip(owners, windows, hypotheses):
            offset_s = start / SAMPLE_RATE
            # The last output frame may reach past the audio by up to a frame of subsampling.
            window_end_s = offset_s + len(window) / SAMPLE_RATE
            words[owner] += [
                Word(w.text, round(w.start_s + offset_s, 3), round(min(w.end_s + offset_s, window_end_s), 3), w.confidence)
                for w in hypothesis.words
            ]
        alternatives = [hypotheses[owners.index(i)].alternatives if owners.count(i) == 1 else [] for i in range(len(samples_list))]
        return [
            Transcript(" ".join(w.text for w in ws), ws, round(len(s) / SAMPLE_RATE, 3), alts)
            for ws, s, alts in zip(words, samples_list, alternatives)
        ]

    def stream(self, source, vad=None, partial_interval_ms: int | None = 300):
        """Partial and final StreamEvents from live audio.

        `source`: an iterable of float32 16 kHz chunks (a Microphone, say) or a
        file path, read as fast as it decodes. See speech2text.stream.
        """
        from .stream import file_chunks, stream_events
        from .vad import VadConfig

        if isinstance(source, (str, Path)):
            source = file_chunks(source, realtime=False)
        return stream_events(self, source, vad=vad or VadConfig(), partial_interval_ms=partial_interval_ms)

    def transcribe(self, audio: str | Path | np.ndarray, decoder: str = "greedy", beam_size: int = 8) -> Transcript:
        """Transcribe a file path, `-` (stdin) or float32 samples at 16 kHz."""
        samples = audio if isinstance(audio, np.ndarray) else load_audio(audio)
        if samples.size == 0:
            raise AudioError("the audio has no samples")
        return self.transcribe_samples([samples.astype(np.float32, copy=False)], decoder=decoder, beam_size=beam_size)[0]
