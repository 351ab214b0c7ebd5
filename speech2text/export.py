"""Exporting the acoustic model (features -> log-probs) for other runtimes, and int8 quantization.

The exported graph takes normalized-inside features (batch, frames, n_mels)
and frame lengths, exactly like AcousticModel.forward; the log-mel frontend
stays on the caller's side (its settings are in the checkpoint).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

from .model import AcousticModel

EXPORT_FORMATS = ("onnx", "torchscript")


def example_inputs(model: AcousticModel) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(2, 200, model.config.n_mels), torch.tensor([200, 120])


def export_onnx(model: AcousticModel, path: str | Path) -> None:
    """ONNX with dynamic batch and time axes (opset 17)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on RNN batch sizes; the axes are declared dynamic
        torch.onnx.export(
            model.eval(), example_inputs(model), str(path), dynamo=False, opset_version=17,
            input_names=["features", "lengths"], output_names=["log_probs", "out_lengths"],
            dynamic_axes={"features": {0: "batch", 1: "frames"}, "lengths": {0: "batch"},
                          "log_probs": {0: "batch", 1: "out_frames"}, "out_lengths": {0: "batch"}},
        )


def export_torchscript(model: AcousticModel, path: str | Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(model.eval(), example_inputs(model), check_trace=False)
    traced.save(str(path))


def export(model: AcousticModel, path: str | Path, fmt: str) -> None:
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"export format must be one of {EXPORT_FORMATS}, not {fmt!r}")
    (export_onnx if fmt == "onnx" else export_torchscript)(model, path)


def quantize_int8(model: AcousticModel) -> nn.Module:
    """Dynamic int8 quantization of the recurrent and linear layers for CPU inference."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization is deprecated in favour of torchao, which is not needed here
        return torch.ao.quantization.quantize_dynamic(model.eval(), {nn.LSTM, nn.GRU, nn.Linear}, dtype=torch.qint8)
