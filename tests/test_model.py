import pytest
import torch

from speech2text.model import AcousticModel, BidirectionalLayer, ModelConfig, reverse_within_lengths


def test_reverse_within_lengths_keeps_padding_in_place():
    x = torch.arange(10.0).view(2, 5, 1)
    lengths = torch.tensor([3, 5])
    out = reverse_within_lengths(x, lengths)
    assert out[:, :, 0].tolist() == [[2, 1, 0, 3, 4], [9, 8, 7, 6, 5]]
    assert torch.equal(reverse_within_lengths(out, lengths), x)


@pytest.mark.parametrize("rnn_type", ["lstm", "gru", "rnn"])
def test_bidirectional_layer_equals_packed_bidirectional_rnn(rnn_type):
    torch.manual_seed(0)
    layer = BidirectionalLayer(rnn_type, 6, 5)
    reference = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[rnn_type](
        6, 5, batch_first=True, bidirectional=True
    )
    with torch.no_grad():
        for name, _ in layer.forward_rnn.named_parameters():
            getattr(reference, name).copy_(getattr(layer.forward_rnn, name))
            getattr(reference, f"{name}_reverse").copy_(getattr(layer.backward_rnn, name))
    x = torch.randn(3, 7, 6)
    lengths = torch.tensor([7, 4, 2])
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    expected, _ = torch.nn.utils.rnn.pad_packed_sequence(reference(packed)[0], batch_first=True)
    out = layer(x, lengths)
    for i, n in enumerate(lengths):
        torch.testing.assert_close(out[i, :n], expected[i, :n], atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("rnn_type, normalization", [("lstm", "global"), ("gru", "global"), ("rnn", "global"),
                                                      ("lstm", "utterance")])
def test_batched_equals_one_by_one(rnn_type, normalization):
    torch.manual_seed(0)
    config = ModelConfig(rnn_type=rnn_type, hidden_size=16, num_layers=2, conv_channels=24, normalization=normalization)
    model = AcousticModel(config).eval()
    lengths = torch.tensor([50, 31, 17])
    features = torch.randn(3, 50, 80)
    with torch.no_grad():
        batched, out_lengths = model(features, lengths)
        for i, n in enumerate(lengths):
            single, single_length = model(features[i : i + 1, :n], lengths[i : i + 1])
            assert single_length.item() == out_lengths[i].item() == single.shape[1]
            torch.testing.assert_close(batched[i, : out_lengths[i]], single[0], atol=1e-5, rtol=1e-5)


def test_output_is_log_probabilities_with_subsampled_lengths():
    model = AcousticModel(ModelConfig(hidden_size=8, num_layers=1, conv_channels=8, subsampling=3)).eval()
    with torch.no_grad():
        log_probs, lengths = model(torch.randn(2, 100, 80), torch.tensor([100, 61]))
    assert log_probs.shape == (2, 34, 29)
    assert lengths.tolist() == [34, 21]
    torch.testing.assert_close(log_probs.exp().sum(-1), torch.ones(2, 34))


def test_unknown_rnn_type_is_rejected():
    with pytest.raises(ValueError, match="rnn_type"):
        ModelConfig(rnn_type="transformer")
