import librosa
import numpy as np
import torch

from speech2text.features import FeatureConfig, FeatureNormalizer, LogMel


def test_log_mel_matches_librosa(speechlike):
    config = FeatureConfig()
    features, lengths = LogMel(config)(torch.from_numpy(speechlike)[None])
    reference = librosa.feature.melspectrogram(
        y=speechlike, sr=16000, n_fft=config.n_fft, win_length=config.win_length, hop_length=config.hop_length,
        n_mels=config.n_mels, power=2.0, center=True, pad_mode="constant",
    )
    reference = np.log(np.maximum(reference, config.log_floor)).T
    assert features.shape == (1, 201, 80) and lengths.tolist() == [201]
    np.testing.assert_allclose(features[0].numpy(), reference, atol=2e-3)


def test_window_and_hop_are_25_and_10_ms():
    config = FeatureConfig()
    assert (config.win_length, config.hop_length, config.n_mels) == (400, 160, 80)


def test_batched_equals_one_by_one(speechlike):
    frontend = LogMel()
    short = speechlike[:20_000]
    batch = torch.stack([torch.from_numpy(speechlike), torch.nn.functional.pad(torch.from_numpy(short), (0, 12_000))])
    features, lengths = frontend(batch, torch.tensor([32_000, 20_000]))
    alone, alone_lengths = frontend(torch.from_numpy(short)[None])
    assert lengths.tolist() == [201, 126] and alone_lengths.tolist() == [126]
    # The last frames of the short signal see zeros either way; interior frames must agree exactly.
    torch.testing.assert_close(features[1, :126], alone[0], atol=1e-4, rtol=1e-5)
    assert features[1, 126:].abs().max() == 0


def test_normalizer_statistics():
    normalizer = FeatureNormalizer(3)
    features = torch.tensor([[[1.0, 2, 3], [3, 4, 5], [99, 99, 99]]])
    normalizer.fit(features, torch.tensor([2]))
    assert normalizer.mean.tolist() == [2, 3, 4]
    torch.testing.assert_close(normalizer(features[:, :2]), torch.tensor([[[-0.7071] * 3, [0.7071] * 3]]), atol=1e-4, rtol=0)
