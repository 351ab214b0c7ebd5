"""The two backends a Transcriber runs on: TorchBackend (PyTorch) and OnnxBackend (ONNX Runtime, no torch).

A backend is what Transcriber needs from a runtime: `runtime`, `vocabulary`, `metadata`, `sample_rate`,
`frame_shift_s`, `hop_s`, `features(samples)` and `log_probs(batch)`. Windowing at pauses, decoding
(speech2text/decoding.py, numpy and flashlight-text) and output are the very same code over either.

`import torch` alone peaks at about 600 MB of RSS (PyPI's torch is the CUDA build and maps its CUDA
libraries); ONNX Runtime costs about 45 MB. So torch is imported inside TorchBackend only, and OnnxBackend
runs an exported model (speech2text/export.py) with log-mel features in numpy (speech2text/mel.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .bundled import DEFAULT_MODEL, METADATA_KEY, bundled_onnx_model, parse_onnx_metadata, pretrained_models
from .errors import CheckpointError
from .mel import log_mel
from .text import Vocabulary

if TYPE_CHECKING:
    from .checkpoint import Checkpoint


def onnxruntime_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


class TorchBackend:
    """The acoustic model of a checkpoint on PyTorch: LogMel features, then the network; log-probs as torch
    tensors. quantize="int8": dynamic int8 quantization of the LSTM and linear layers."""

    runtime = "torch"

    def __init__(self, checkpoint: Checkpoint, quantize: str | None = None, threads: int | None = None):
        from .features import LogMel

        if threads:
            import torch

            torch.set_num_threads(threads)
        self.model = checkpoint.model.eval()
        if quantize == "int8":
            from .export import quantize_int8

            self.model = quantize_int8(self.model)
        elif quantize is not None:
            raise ValueError(f"quantize must be None or 'int8', not {quantize!r}")
        self.feature_config = checkpoint.feature_config
        self.frontend = LogMel(checkpoint.feature_config)
        self.vocabulary = checkpoint.vocabulary
        self.metadata = checkpoint.metadata

    @property
    def sample_rate(self) -> int:
        return self.feature_config.sample_rate

    @property
    def hop_s(self) -> float:
        return self.feature_config.hop_ms / 1000

    @property
    def frame_shift_s(self) -> float:
        """Seconds per output frame of the model."""
        return self.hop_s * self.model.frame_shift_factor

    def features(self, samples: np.ndarray) -> np.ndarray:
        """Float32 samples (samples,) -> log-mel features (frames, n_mels)."""
        import torch

        with torch.inference_mode():
            return self.frontend(torch.from_numpy(samples)[None])[0][0].numpy()

    def log_probs(self, batch: list[np.ndarray]):
        """Float32 sample arrays -> (log_probs (batch, frames, vocab), frame lengths), as torch tensors."""
        import torch

        with torch.inference_mode():
            lengths = torch.tensor([len(s) for s in batch])
            samples = torch.nn.utils.rnn.pad_sequence([torch.from_numpy(s) for s in batch], batch_first=True)
            features, feature_lengths = self.frontend(samples, lengths)
            return self.model(features, feature_lengths)


class OnnxBackend:
    """The acoustic model of an exported ONNX file on ONNX Runtime, log-mel features in numpy; never imports
    torch. A Transcriber over it windows, decodes and outputs with the very code of the torch backend:

    >>> from speech2text import load_transcriber
    >>> load_transcriber(runtime="onnx").transcribe("assets/what_is_your_name.wav").text
    'what is your name'
    """

    runtime = "onnx"

    def __init__(self, path: str | Path, threads: int | None = None):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        # No memory arena: windows differ in length, and the arena kept its largest blocks for good
        # (peak RSS on 10 min of audio 279 MB with it, 227 MB without; benchmarks/footprint.py).
        options.enable_cpu_mem_arena = False
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        if not Path(path).is_file():
            raise CheckpointError(f"{path}: no such model file")
        try:
            self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # noqa: BLE001 - ONNX Runtime's load errors share no base class but Exception
            raise CheckpointError(f"{path}: not a loadable ONNX model ({str(error).splitlines()[0]})") from None
        metadata = parse_onnx_metadata(path, self.session.get_modelmeta().custom_metadata_map.get(METADATA_KEY))
        if metadata is None:
            raise CheckpointError(f"{path}: an ONNX model without speech2text metadata (export it with `speech2text export`)")
        self.path = Path(path)
        self.feature_settings = metadata["feature_config"]
        self.vocabulary = Vocabulary(tuple(metadata["labels"]))
        self.frame_shift_factor = metadata["frame_shift_factor"]
        self.metadata = {"onnx": str(path), "source_sha256": metadata.get("source_sha256")}

    @classmethod
    def from_pretrained(cls, path_or_name: str | Path | None = None, quantize: str | None = None,
                        threads: int | None = None) -> OnnxBackend:
        """A bundled model by name (None: the default) whose .onnx file is current, or an exported .onnx file."""
        if quantize is not None:
            raise CheckpointError("the ONNX runtime runs the float model; quantize needs the PyTorch runtime")
        name = str(path_or_name or DEFAULT_MODEL)
        path = bundled_onnx_model(name) if not name.endswith(".onnx") else Path(name)
        if path is None and name not in pretrained_models():
            raise CheckpointError(f"{name}: a checkpoint, not an ONNX file (export one with `speech2text export`, "
                             "or use --runtime torch)")
        if path is None:
            raise CheckpointError(f"no current ONNX export of the bundled model {name!r}")
        return cls(path, threads)

    @property
    def sample_rate(self) -> int:
        return self.feature_settings["sample_rate"]

    @property
    def frame_shift_s(self) -> float:
        return self.feature_settings["hop_ms"] / 1000 * self.frame_shift_factor

    @property
    def hop_s(self) -> float:
        return self.feature_settings["hop_ms"] / 1000

    def features(self, samples: np.ndarray) -> np.ndarray:
        """Float32 samples (samples,) -> log-mel features (frames, n_mels)."""
        return log_mel(samples, self.feature_settings)

    def log_probs(self, batch: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Float32 sample arrays -> (log_probs (batch, frames, vocab), frame lengths), as numpy arrays."""
        features = [log_mel(samples, self.feature_settings) for samples in batch]
        lengths = np.array([len(f) for f in features], np.int64)
        padded = np.zeros((len(features), lengths.max(), self.feature_settings["n_mels"]), np.float32)
        for row, f in zip(padded, features):
            row[: len(f)] = f
        log_probs, out_lengths = self.session.run(None, {"features": padded, "lengths": lengths})
        return log_probs, out_lengths
