"""Exporting the acoustic model (features -> log-probs) for other runtimes, and int8 quantization.

The exported graph takes normalized-inside features (batch, frames, n_mels)
and frame lengths, exactly like AcousticModel.forward; the log-mel frontend
stays on the caller's side. An ONNX file exported from a checkpoint describes
itself: its metadata (key "speech2text") holds the frontend settings, the labels,
the frame shift and the checkpoint's SHA-256, which is all backends.OnnxBackend
needs to transcribe with it (bundled.parse_onnx_metadata checks it).
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import torch
from torch import nn

from .bundled import METADATA_KEY
from .model import AcousticModel

EXPORT_FORMATS = ("onnx", "torchscript")


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def onnx_metadata(checkpoint, checkpoint_path: str | Path | None = None) -> dict:
    """What a runtime without torch needs to know about a model: frontend, labels, frame shift, source."""
    config = checkpoint.feature_config
    return {
        "feature_config": {**config.to_dict(), "win_length": config.win_length, "hop_length": config.hop_length},
        "labels": list(checkpoint.vocabulary.symbols),
        "frame_shift_factor": checkpoint.model.frame_shift_factor,
        "source_sha256": file_sha256(checkpoint_path) if checkpoint_path else None,
    }


def example_inputs(model: AcousticModel) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(2, 200, model.config.n_mels), torch.tensor([200, 120])


def export_onnx(model: AcousticModel, path: str | Path, metadata: dict | None = None) -> None:
    """ONNX with dynamic batch and time axes (opset 17); `metadata` is stored as JSON under METADATA_KEY."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on RNN batch sizes; the axes are declared dynamic
        torch.onnx.export(
            model.eval(), example_inputs(model), str(path), dynamo=False, opset_version=17,
            input_names=["features", "lengths"], output_names=["log_probs", "out_lengths"],
            dynamic_axes={"features": {0: "batch", 1: "frames"}, "lengths": {0: "batch"},
                          "log_probs": {0: "batch", 1: "out_frames"}, "out_lengths": {0: "batch"}},
        )
    import onnx

    exported = onnx.load(str(path))
    _store_exact_weights_as_float16(exported.graph)
    if metadata is not None:
        onnx.helper.set_model_props(exported, {METADATA_KEY: json.dumps(metadata)})
    onnx.save(exported, str(path))


def _store_exact_weights_as_float16(graph) -> None:
    """Store each float32 weight that float16 holds exactly as float16, cast back to float32 in the graph.

    A checkpoint saved in half precision (the bundled one) thus exports at half the size
    with every value unchanged; weights float16 cannot hold exactly stay float32.
    (onnxconverter-common's float16 converter would also run the arithmetic in float16.)
    """
    import numpy as np
    import onnx
    from onnx import numpy_helper

    casts = []
    for tensor in graph.initializer:
        weights = numpy_helper.to_array(tensor)
        if weights.dtype != np.float32 or weights.size < 64:
            continue
        half = weights.astype(np.float16)
        if not np.array_equal(half.astype(np.float32), weights):
            continue
        name = tensor.name
        tensor.CopyFrom(numpy_helper.from_array(half, f"{name}.float16"))
        casts.append(onnx.helper.make_node("Cast", [f"{name}.float16"], [name], to=onnx.TensorProto.FLOAT))
    for cast in reversed(casts):
        graph.node.insert(0, cast)


def export_torchscript(model: AcousticModel, path: str | Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(model.eval(), example_inputs(model), check_trace=False)
    traced.save(str(path))


def export(model: AcousticModel, path: str | Path, fmt: str, metadata: dict | None = None) -> None:
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"export format must be one of {EXPORT_FORMATS}, not {fmt!r}")
    if fmt == "onnx":
        export_onnx(model, path, metadata)
    else:
        export_torchscript(model, path)


def quantize_int8(model: AcousticModel) -> nn.Module:
    """Dynamic int8 quantization of the recurrent and linear layers for CPU inference."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization is deprecated in favour of torchao, which is not needed here
        return torch.ao.quantization.quantize_dynamic(model.eval(), {nn.LSTM, nn.GRU, nn.Linear}, dtype=torch.qint8)
