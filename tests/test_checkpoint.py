import pickle

import pytest
import torch

from speech2text.checkpoint import (
    FORMAT_VERSION,
    Checkpoint,
    CheckpointError,
    average_checkpoints,
    load_checkpoint,
    save_checkpoint,
)
from speech2text.features import FeatureConfig
from speech2text.model import AcousticModel, ModelConfig
from speech2text.text import Vocabulary

TINY = ModelConfig(hidden_size=8, num_layers=2, conv_channels=8, rnn_type="gru")


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    model = AcousticModel(TINY)
    model.normalizer.mean.fill_(-3.0)
    path = tmp_path / "model.pt"
    save_checkpoint(path, Checkpoint(model, FeatureConfig(), Vocabulary(), {"step": 7}))
    return path, model


def test_round_trip_restores_config_weights_and_normalizer(saved):
    path, model = saved
    loaded = load_checkpoint(path)
    assert loaded.model.config == TINY
    assert loaded.metadata == {"step": 7}
    assert loaded.vocabulary == Vocabulary() and loaded.feature_config == FeatureConfig()
    for name, tensor in model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[name], tensor), name
    assert loaded.model.normalizer.mean[0] == -3.0


def test_a_checkpoint_from_before_level_normalization_loads_without_it(saved, tmp_path):
    payload = torch.load(saved[0], weights_only=True)
    del payload["feature_config"]["level_db"]
    torch.save(payload, tmp_path / "old.pt")
    assert load_checkpoint(tmp_path / "old.pt").feature_config == FeatureConfig(level_db=None)
    assert load_checkpoint(saved[0]).feature_config.level_db == FeatureConfig().level_db is not None


def test_half_precision_halves_the_file_and_loads_as_float32(saved, tmp_path):
    path, model = saved
    half = tmp_path / "half.pt"
    save_checkpoint(half, Checkpoint(model, FeatureConfig(), Vocabulary()), half=True)
    loaded = load_checkpoint(half)
    weight = loaded.model.output.weight
    assert weight.dtype == torch.float32
    torch.testing.assert_close(weight, model.output.weight, atol=1e-3, rtol=1e-3)
    assert half.stat().st_size < 0.75 * path.stat().st_size


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="no such model file"):
        load_checkpoint(tmp_path / "nope.pt")


def test_corrupt_and_truncated_files(saved, tmp_path):
    path, _ = saved
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"\x00\x01 definitely not a checkpoint" * 50)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    for bad in (garbage, truncated):
        with pytest.raises(CheckpointError, match="not a readable checkpoint"):
            load_checkpoint(bad)


def test_other_torch_files_are_rejected(tmp_path):
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, other)
    with pytest.raises(CheckpointError, match="not a speech2text checkpoint"):
        load_checkpoint(other)


class Exploit:
    def __reduce__(self):
        return (print, ("this ran code",))


def test_a_file_that_would_run_code_is_refused(tmp_path, capsys):
    evil = tmp_path / "evil.pt"
    torch.save({"format": "speech2text-checkpoint", "payload": Exploit()}, evil, pickle_module=pickle)
    with pytest.raises(CheckpointError, match="refused to load"):
        load_checkpoint(evil)
    assert "this ran code" not in capsys.readouterr().out


def test_newer_format_and_damaged_state(saved, tmp_path):
    path, _ = saved
    payload = torch.load(path, weights_only=True)
    newer = dict(payload, format_version=FORMAT_VERSION + 1)
    torch.save(newer, tmp_path / "newer.pt")
    with pytest.raises(CheckpointError, match="newer"):
        load_checkpoint(tmp_path / "newer.pt")
    damaged = dict(payload, state_dict={k: v for k, v in payload["state_dict"].items() if "output" not in k})
    torch.save(damaged, tmp_path / "damaged.pt")
    with pytest.raises(CheckpointError, match="damaged checkpoint"):
        load_checkpoint(tmp_path / "damaged.pt")


def test_averaging_takes_the_mean_of_every_weight_and_records_the_ingredients():
    config = ModelConfig(hidden_size=16, num_layers=1, conv_channels=16)
    models = [AcousticModel(config) for _ in range(3)]
    for model in models[1:]:  # fine-tuned from one start: the same normalization statistics
        model.normalizer.load_state_dict(models[0].normalizer.state_dict())
    runs = [Checkpoint(m, FeatureConfig(), Vocabulary(), {"step": 10 * i, "fine_tuned_from": [{"path": "start.pt"}]})
            for i, m in enumerate(models)]
    soup = average_checkpoints(runs, ["a.pt", "b.pt", "c.pt"])
    for name, weight in soup.model.state_dict().items():
        expected = torch.stack([m.state_dict()[name].float() for m in models]).mean(0)
        assert torch.allclose(weight.float(), expected), name
    assert soup.metadata == {  # what the runs share on top, what each has of its own under its name
        "fine_tuned_from": [{"path": "start.pt"}],
        "averaged_from": [{"path": "a.pt", "step": 0}, {"path": "b.pt", "step": 10}, {"path": "c.pt", "step": 20}],
    }


@pytest.mark.parametrize("change, differs", [
    (lambda c: Checkpoint(AcousticModel(ModelConfig(hidden_size=24, num_layers=1, conv_channels=16)), c.feature_config,
                          c.vocabulary), "architecture"),
    (lambda c: Checkpoint(c.model, FeatureConfig(n_mels=40), c.vocabulary), "frontend"),
    (lambda c: Checkpoint(c.model, c.feature_config, Vocabulary(tuple("_ abc"))), "alphabet"),
    (lambda c: Checkpoint(AcousticModel(c.model.config), c.feature_config, c.vocabulary), "normalization statistics"),
])
def test_only_runs_from_one_start_can_be_averaged(change, differs):
    model = AcousticModel(ModelConfig(hidden_size=16, num_layers=1, conv_channels=16))
    model.normalizer.mean.fill_(1.0)
    start = Checkpoint(model, FeatureConfig(), Vocabulary())
    with pytest.raises(CheckpointError, match=f"b.pt: cannot be averaged with a.pt: its {differs} differs"):
        average_checkpoints([start, change(start)], ["a.pt", "b.pt"])
