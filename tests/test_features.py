import librosa
import pytest
import numpy as np
import torch

from speech2text.features import FeatureConfig, FeatureNormalizer, LogMel, level_gains
from speech2text.mel import MAX_LEVEL_GAIN_DB, speech_level_db


def test_log_mel_matches_librosa(speechlike):
    config = FeatureConfig(level_db=None)  # librosa has no level normalization: the features as recorded
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


def test_the_speech_level_is_moved_to_the_target_whatever_the_recording_gain(speechlike):
    frontend = LogMel(FeatureConfig(level_db=-9.0))
    loud, _ = frontend(torch.from_numpy(speechlike)[None])
    for gain_db in (-15.0, 12.0):
        quiet, _ = frontend(torch.from_numpy(speechlike * np.float32(10 ** (gain_db / 20)))[None])
        torch.testing.assert_close(quiet, loud, atol=1e-3, rtol=0)
    # The level is the 95th percentile of the frames' mean mel power, here -9 dB after the gain.
    power = frontend.mel(torch.from_numpy(speechlike)[None]).mean(1)[0]
    gain = level_gains(power[None], torch.tensor([len(power)]), -9.0)[0]
    assert 10 * np.log10(np.percentile((power * gain).double().numpy(), 95)) == pytest.approx(-9.0, abs=1e-4)
    # Off, a gain of g dB moves every feature above the log floor by g / 10 * ln 10.
    raw = LogMel(FeatureConfig(level_db=None))
    before = raw(torch.from_numpy(speechlike)[None])[0]
    after = raw(torch.from_numpy(speechlike * np.float32(10 ** (-1 / 20)))[None])[0]
    above_floor = before > np.log(FeatureConfig().log_floor) + 5
    assert above_floor.float().mean() > 0.25
    torch.testing.assert_close((after - before)[above_floor], torch.full_like(before[above_floor], -0.1 * np.log(10)),
                               atol=1e-3, rtol=0)


def test_the_level_gain_is_capped_so_that_near_silence_stays_quiet(speechlike):
    whisper = torch.from_numpy(speechlike * np.float32(1e-4))[None]  # 80 dB down: far below any speech level
    level = speech_level_db(LogMel(FeatureConfig(level_db=None)).mel(whisper).mean(1)[0].numpy())
    assert -9.0 - level > MAX_LEVEL_GAIN_DB
    # It gets exactly the largest gain (20 dB), no more: the same features as the signal raised by that much.
    normalized, _ = LogMel(FeatureConfig(level_db=-9.0))(whisper)
    raised, _ = LogMel(FeatureConfig(level_db=None))(whisper * 10 ** (MAX_LEVEL_GAIN_DB / 20))
    torch.testing.assert_close(normalized, raised, atol=1e-4, rtol=0)


def test_normalizer_statistics():
    normalizer = FeatureNormalizer(3)
    features = torch.tensor([[[1.0, 2, 3], [3, 4, 5], [99, 99, 99]]])
    normalizer.fit(features, torch.tensor([2]))
    assert normalizer.mean.tolist() == [2, 3, 4]
    torch.testing.assert_close(normalizer(features[:, :2], torch.tensor([2])),
                               torch.tensor([[[-0.7071] * 3, [0.7071] * 3]]), atol=1e-4, rtol=0)


def test_utterance_normalization_removes_each_utterances_own_offset_and_ignores_padding():
    normalizer = FeatureNormalizer(3, "utterance")
    normalizer.std.fill_(2.0)
    features = torch.tensor([[[1.0, 2, 3], [3, 4, 5], [99, 99, 99]]])
    # The padding frame (99) counts for nothing: the mean is that of the two valid frames.
    torch.testing.assert_close(normalizer(features, torch.tensor([2]))[:, :2], torch.tensor([[[-0.5] * 3, [0.5] * 3]]))
    # A per-bin offset, a microphone's colour or a gain in dB, leaves the normalized features as they were.
    shifted = features + torch.tensor([10.0, -4.0, 0.5])
    torch.testing.assert_close(normalizer(shifted, torch.tensor([2]))[:, :2], normalizer(features, torch.tensor([2]))[:, :2])


def test_an_unknown_normalization_is_refused():
    with pytest.raises(ValueError, match="utterance"):
        FeatureNormalizer(3, "speaker")
