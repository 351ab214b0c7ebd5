"""Transcriber: a model on one of the two backends (backends.py) with its decoders; audio in -> Transcript out."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from .audio import SAMPLE_RATE, SILENCE_PEAK, AudioError, load_audio, read_blocks
from .backends import OnnxBackend, TorchBackend, onnxruntime_available
from .bundled import DEFAULT_MODEL, bundled_language_model, bundled_onnx_model, pretrained_models, resolve_model
from .decoding import LanguageModelDecoder, Transcript, Word, beam_decode, greedy_decode
from .errors import CheckpointError

# torch is imported where the PyTorch model runs (inside TorchBackend), not here: a Transcriber over
# an OnnxBackend runs without torch (a fraction of the memory).

MAX_WINDOW_S = 30.0
SILENCE_SEARCH_S = 5.0
PROGRESS_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s [{elapsed}<{remaining}]"


def _duration_or_none(path) -> float | None:
    """The file's duration for a progress bar; None where it cannot tell (read_blocks reports why)."""
    import soundfile

    try:
        return soundfile.info(str(path)).duration
    except Exception:  # noqa: BLE001 - any failure here is reported by read_blocks with a clear message
        return None


def _quietest_cut(buffer: np.ndarray, window: int) -> int:
    """Index of the middle of the quietest 10 ms in the SILENCE_SEARCH_S seconds before `window`."""
    frame = SAMPLE_RATE // 100
    search_start = window - int(SILENCE_SEARCH_S * SAMPLE_RATE)
    region = buffer[search_start:window]
    energy = (region[: len(region) // frame * frame].reshape(-1, frame) ** 2).sum(axis=1)
    return search_start + int(np.argmin(energy)) * frame + frame // 2


def windows_at_pauses(blocks: Iterable[np.ndarray], max_window_s: float = MAX_WINDOW_S) -> Iterator[tuple[int, np.ndarray]]:
    """Cut a stream of sample blocks into windows of at most `max_window_s`, each cut at a pause.

    A window ends at the quietest 10 ms of its last SILENCE_SEARCH_S seconds, so words
    are rarely split. Only one window and one block are held at a time: memory stays
    flat however long the input is. Yields (start sample, window samples).
    """
    window = int(max_window_s * SAMPLE_RATE)
    buffer, start = np.zeros(0, np.float32), 0
    for block in blocks:
        buffer = np.concatenate([buffer, block])
        while len(buffer) > window:
            cut = _quietest_cut(buffer, window)
            yield start, buffer[:cut]
            start, buffer = start + cut, buffer[cut:]
    if len(buffer):
        yield start, buffer


def split_at_pauses(samples: np.ndarray, max_window_s: float = MAX_WINDOW_S) -> list[tuple[int, int]]:
    """The windows of windows_at_pauses for one array, as (start, end) sample indices."""
    return [(start, start + len(window)) for start, window in windows_at_pauses([samples], max_window_s)]


def choose_runtime(model: str | Path | None = None, runtime: str = "auto", needs_torch: bool = False) -> str:
    """"onnx" or "torch" for `runtime` = auto | onnx | torch.

    auto picks onnx when onnxruntime is installed and the model is an exported .onnx file or a bundled model
    whose .onnx export is current, and nothing needs torch (int8 quantization, say).
    """
    if runtime != "auto":
        return runtime
    if needs_torch or not onnxruntime_available():
        return "torch"
    name = str(model or DEFAULT_MODEL)
    if name.endswith(".onnx") or (name in pretrained_models() and bundled_onnx_model(name)):
        return "onnx"
    return "torch"


def load_transcriber(model: str | Path | None = None, runtime: str = "auto", quantize: str | None = None,
                     threads: int | None = None) -> Transcriber:
    """The one way every subcommand loads a model: a bundled name (None: the default), a checkpoint or an
    exported .onnx file, on ONNX Runtime (no torch imported) or PyTorch, as choose_runtime decides."""
    if choose_runtime(model, runtime, needs_torch=quantize is not None) == "onnx":
        return Transcriber(OnnxBackend.from_pretrained(model, quantize=quantize, threads=threads))
    from .checkpoint import load_checkpoint

    return Transcriber(TorchBackend(load_checkpoint(resolve_model(model)), quantize, threads))


class Transcriber:
    """A loaded acoustic model (a TorchBackend or an OnnxBackend) with its decoders: audio in, Transcript out.

    >>> transcriber = Transcriber.from_pretrained()          # the bundled English model
    >>> transcriber.transcribe("assets/what_is_your_name.wav").text
    'what is your name'
    """

    def __init__(self, backend):
        """`backend`: a TorchBackend or an OnnxBackend, or a Checkpoint (run on PyTorch)."""
        self.backend = backend if hasattr(backend, "log_probs") else TorchBackend(backend)
        self.vocabulary = self.backend.vocabulary
        self.metadata = self.backend.metadata
        self.lm_decoder: LanguageModelDecoder | None = None

    @classmethod
    def from_pretrained(cls, path_or_name: str | Path | None = None, quantize: str | None = None,
                        runtime: str | None = None, threads: int | None = None) -> Transcriber:
        """A bundled model by name (None: the default), a checkpoint or an .onnx file, on `runtime`
        (load_transcriber). quantize="int8" applies dynamic int8 quantization to the LSTM and linear layers.

        runtime None: PyTorch where it is installed (so that `.model` is there for export and fine-tuning),
        else "auto", which on an install without torch is ONNX Runtime."""
        if runtime is None:
            runtime = "torch" if importlib.util.find_spec("torch") else "auto"
        return load_transcriber(path_or_name, runtime, quantize, threads)

    @property
    def runtime(self) -> str:
        return self.backend.runtime

    @property
    def model(self):
        """The torch module (the PyTorch backend only: export, fine-tuning)."""
        if self.backend.runtime != "torch":
            raise CheckpointError("this model runs on ONNX Runtime; load its checkpoint for PyTorch (--runtime torch)")
        return self.backend.model

    def load_language_model(
        self, path: str | Path | None = None, words: list[str] | None = None, **options
    ) -> LanguageModelDecoder:
        """Set up decoder="lm": an ARPA word n-gram file (None: the bundled English LM).

        words: a closed vocabulary (a command set) instead of the LM's own. options go
        to LanguageModelDecoder: beam_size, lm_weight, word_score, nbest.
        """
        from .lm import LanguageModelError

        if path is None:
            path = bundled_language_model()
        if not Path(path).is_file():
            raise LanguageModelError(f"{path}: no such language model file")
        self.lm_decoder = LanguageModelDecoder(self.vocabulary, str(path), words=words, **options)
        return self.lm_decoder

    @property
    def sample_rate(self) -> int:
        return self.backend.sample_rate

    @property
    def labels(self) -> tuple[str, ...]:
        return self.vocabulary.symbols

    @property
    def frame_shift_s(self) -> float:
        """Seconds per output frame of the model."""
        return self.backend.frame_shift_s

    def features(self, samples: np.ndarray) -> np.ndarray:
        """Float32 16 kHz samples (samples,) -> the model's log-mel features (frames, n_mels)."""
        return self.backend.features(samples)

    def log_probs(self, batch: list[np.ndarray]):
        """Float32 sample arrays -> (log_probs (batch, frames, vocab), frame lengths): torch tensors or numpy
        arrays, as the backend gives them; the decoders take both."""
        return self.backend.log_probs(batch)

    def transcribe_samples(
        self, samples_list: list[np.ndarray], batch_size: int = 8, decoder: str = "lm", beam_size: int = 8
    ) -> list[Transcript]:
        """Transcribe several float32 16 kHz mono signals; long ones are cut at pauses first.

        Windows go through the model `batch_size` at a time, so memory is bounded by
        the batch, not by the length of the input. decoder: "lm" (beam search with
        the word LM: the bundled one unless load_language_model named another),
        "beam" (prefix beam search without an LM) or "greedy". The n-best list of
        "lm" and "beam" is kept for inputs of one window.
        """
        windows = (
            (owner, start, window)
            for owner, samples in enumerate(samples_list)
            for start, window in windows_at_pauses([samples])
        )
        return self._transcribe_windows(windows, len(samples_list), batch_size, decoder, beam_size)

    def _transcribe_windows(self, windows, count: int, batch_size: int, decoder: str, beam_size: int) -> list[Transcript]:
        """(owner, start sample, samples) windows -> one Transcript per owner, times made global."""
        if decoder not in ("greedy", "beam", "lm"):
            raise ValueError(f"decoder must be 'greedy', 'beam' or 'lm', not {decoder!r}")
        if decoder == "lm" and self.lm_decoder is None:
            self.load_language_model()
        words: list[list[Word]] = [[] for _ in range(count)]
        ends = [0] * count
        alternatives: list[list] = [[] for _ in range(count)]
        batch: list[tuple[int, int, np.ndarray]] = []

        def decode(batch):
            log_probs, lengths = self.log_probs([window for _, _, window in batch])
            if decoder == "lm":
                results = self.lm_decoder(log_probs, lengths, self.frame_shift_s)
            elif decoder == "beam":
                results = beam_decode(log_probs, lengths, self.vocabulary, self.frame_shift_s, beam_size)
            else:
                results = greedy_decode(log_probs, lengths, self.vocabulary, self.frame_shift_s)
            for (owner, start, window), result in zip(batch, results):
                words[owner] += result.shifted(start / SAMPLE_RATE, (start + len(window)) / SAMPLE_RATE).words
                # An n-best list means something only for an input decoded in one window.
                alternatives[owner] = result.alternatives if start == 0 else []
                ends[owner] = start + len(window)

        for item in windows:
            batch.append(item)
            if len(batch) == batch_size:
                decode(batch)
                batch = []
        if batch:
            decode(batch)
        return [
            Transcript(" ".join(w.text for w in ws), ws, 0.0, round(end / SAMPLE_RATE, 3), alts)
            for ws, end, alts in zip(words, ends, alternatives)
        ]

    def stream(self, source, vad=None, partial_interval_ms: int | None = 300, decoder: str = "lm"):
        """Partial and final StreamEvents from live audio.

        `source`: an iterable of float32 16 kHz chunks (a Microphone, say) or a
        file path, read as fast as it decodes. See speech2text.stream.
        """
        from .stream import file_chunks, stream_events
        from .vad import VadConfig

        if isinstance(source, (str, Path)):
            source = file_chunks(source, realtime=False)
        return stream_events(self, source, vad=vad or VadConfig(), partial_interval_ms=partial_interval_ms, decoder=decoder)

    def transcribe(
        self,
        audio: str | Path | np.ndarray,
        decoder: str = "lm",
        beam_size: int = 8,
        reject_silence: bool = False,
        progress: bool = False,
    ) -> Transcript:
        """Transcribe a file path, `-` (stdin) or float32 samples at 16 kHz.

        Files are read in blocks and decoded window by window, so an hour of audio
        takes no more memory than a minute. reject_silence: raise AudioError for
        audio with no sample above -80 dBFS. progress: a tqdm bar over audio seconds.
        """
        if isinstance(audio, np.ndarray):
            blocks: Iterable[np.ndarray] = [audio.astype(np.float32, copy=False)]
            total_s = len(audio) / SAMPLE_RATE
        else:
            blocks = read_blocks(audio) if str(audio) != "-" else [load_audio("-")]
            total_s = _duration_or_none(audio)
        peak, n_samples = 0.0, 0

        def windows():
            nonlocal peak, n_samples
            from tqdm import tqdm

            bar_format = PROGRESS_FORMAT if total_s else None
            with tqdm(total=total_s, unit="s", desc="transcribe", disable=not progress, bar_format=bar_format) as bar:
                for start, window in windows_at_pauses(blocks):
                    peak = max(peak, float(np.abs(window).max(initial=0.0)))
                    n_samples += len(window)
                    bar.update(len(window) / SAMPLE_RATE)
                    yield 0, start, window

        transcript = self._transcribe_windows(windows(), 1, 8, decoder, beam_size)[0]
        if transcript.duration_s == 0:
            raise AudioError(f"too short to hold speech ({n_samples} sample{'s' if n_samples != 1 else ''} "
                             f"at {SAMPLE_RATE} Hz)" if n_samples else "the audio has no samples")
        if reject_silence and peak < SILENCE_PEAK:
            raise AudioError("the audio is silent")
        return transcript
