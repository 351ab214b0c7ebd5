"""Transcription without torch: the acoustic model on ONNX Runtime, log-mel features in numpy.

`import torch` alone peaks at about 600 MB of RSS (PyPI's torch is the CUDA build and
maps its CUDA libraries); ONNX Runtime costs about 45 MB. OnnxBackend is a
Transcriber backend whose log_probs come from an exported model (speech2text/export.py),
so windowing at pauses, decoding (speech2text/decoding.py, numpy and flashlight-text)
and output are the very same code. The bundled model ships as .pt and .onnx; the
.onnx file names the SHA-256 of the .pt it was exported from, and is used only
while the two match.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

from .errors import CheckpointError
from .mel import log_mel
from .text import Vocabulary
from .transcribe import DEFAULT_MODEL, PRETRAINED_DIR, load_transcriber, pretrained_models  # noqa: F401 (doctest)

METADATA_KEY = "speech2text"  # the same key as speech2text.export.METADATA_KEY, which needs torch to import


def onnxruntime_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


def read_onnx_metadata(path: str | Path) -> dict | None:
    """The speech2text metadata of an exported model, or None for an ONNX file without it."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    text = session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
    return json.loads(text) if text else None


@functools.cache  # the CLI asks, then from_pretrained: hash the .pt and open the .onnx once, not twice
def bundled_onnx_model(name: str = DEFAULT_MODEL) -> Path | None:
    """The bundled .onnx file of model `name` if it is there and was exported from the bundled .pt; else None."""
    import hashlib

    onnx_path, pt_path = PRETRAINED_DIR / f"{name}.onnx", PRETRAINED_DIR / f"{name}.pt"
    if not (onnx_path.is_file() and pt_path.is_file()):
        return None
    metadata = read_onnx_metadata(onnx_path) or {}
    if metadata.get("source_sha256") != hashlib.sha256(pt_path.read_bytes()).hexdigest():
        return None
    return onnx_path


class OnnxBackend:
    """The acoustic model of an exported ONNX file on ONNX Runtime, log-mel features in numpy; never imports
    torch. A Transcriber over it windows, decodes and outputs with the very code of the torch backend:

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
        text = self.session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
        if not text:
            raise CheckpointError(f"{path}: an ONNX model without speech2text metadata (export it with `speech2text export`)")
        metadata = json.loads(text)
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
