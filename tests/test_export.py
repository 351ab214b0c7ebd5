import numpy as np
import onnxruntime
import pytest
import torch

from speech2text.export import export, quantize_int8
from speech2text.model import AcousticModel, ModelConfig


def tiny_model(normalization="global"):
    torch.manual_seed(0)
    return AcousticModel(ModelConfig(hidden_size=32, num_layers=2, conv_channels=32, normalization=normalization)).eval()


def inputs():
    torch.manual_seed(1)
    return torch.randn(3, 157, 80), torch.tensor([157, 90, 41])


@pytest.mark.parametrize("normalization", ["global", "utterance"])
def test_onnx_matches_pytorch_for_new_shapes(tmp_path, normalization):
    model = tiny_model(normalization)
    export(model, tmp_path / "m.onnx", "onnx")
    features, lengths = inputs()
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    log_probs, out_lengths = session.run(None, {"features": features.numpy(), "lengths": lengths.numpy()})
    with torch.no_grad():
        expected, expected_lengths = model(features, lengths)
    assert out_lengths.tolist() == expected_lengths.tolist()
    for i, n in enumerate(expected_lengths):
        np.testing.assert_allclose(log_probs[i, :n], expected[i, :n].numpy(), atol=1e-4)


def test_torchscript_matches_pytorch(tmp_path):
    model = tiny_model()
    export(model, tmp_path / "m.pt", "torchscript")
    loaded = torch.jit.load(str(tmp_path / "m.pt"))
    features, lengths = inputs()
    with torch.no_grad():
        got, got_lengths = loaded(features, lengths)
        expected, expected_lengths = model(features, lengths)
    assert torch.equal(got_lengths, expected_lengths)
    for i, n in enumerate(expected_lengths):
        torch.testing.assert_close(got[i, :n], expected[i, :n], atol=1e-5, rtol=1e-5)


def test_int8_quantization_stays_close():
    model = tiny_model()
    quantized = quantize_int8(model)
    assert type(quantized.layers[0].forward_rnn).__module__.startswith("torch.ao.nn.quantized")
    features, lengths = inputs()
    with torch.no_grad():
        expected, _ = model(features, lengths)
        got, _ = quantized(features, lengths)
    assert (got.exp() - expected.exp()).abs().max() < 0.05
