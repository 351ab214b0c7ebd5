"""The declared data mixture: MixtureBatchSampler draws each source's share of every epoch."""

from __future__ import annotations

from pathlib import Path

import pytest

from speech2text.data import MixtureBatchSampler
from speech2text.train import ConfigError, TrainConfig, read_config_file


def sampler(**kwargs) -> MixtureBatchSampler:
    # source 0: 100 utterances of 2 s (200 s); source 1: 10 of 3 s (30 s).
    durations = [2.0] * 100 + [3.0] * 10
    sources = [0] * 100 + [1] * 10
    return MixtureBatchSampler(durations, sources, [1.0, 3.0], epoch_hours=240 / 3600, max_batch_s=12.0, **kwargs)


def seconds_per_source(batches: list[list[int]]) -> tuple[float, float]:
    flat = [i for batch in batches for i in batch]
    return sum(2.0 for i in flat if i < 100), sum(3.0 for i in flat if i >= 100)


def test_each_source_gives_its_declared_share_of_an_epoch():
    first, second = seconds_per_source(sampler().batches())
    # 240 s an epoch at weights 1:3 -> 60 s of source 0, 180 s of source 1 (cycled: it holds 30 s),
    # each at most one utterance over its target.
    assert 60 <= first < 62 and 180 <= second < 183


def test_a_small_source_is_cycled_evenly_and_a_large_one_drawn_without_repeats():
    flat = [i for batch in sampler().batches() for i in batch]
    small = [flat.count(i) for i in range(100, 110)]
    assert max(small) - min(small) <= 1  # every utterance of the small source seen equally often
    assert all(flat.count(i) <= 1 for i in range(100))


def test_the_draw_depends_only_on_seed_and_epoch_and_resumes_exactly():
    a, b = sampler(seed=4), sampler(seed=4)
    a.set_epoch(2)
    b.set_epoch(2, skip_batches=3)
    assert a.batches() == b.batches()
    assert list(b) == a.batches()[3:]
    other = sampler(seed=4)
    other.set_epoch(3)
    assert other.batches() != a.batches()


def test_weights_must_match_the_manifests_and_be_usable():
    with pytest.raises(ConfigError, match="one per manifest"):
        TrainConfig(train_manifests=("a.jsonl", "b.jsonl"), out_dir="run", source_weights=(1.0,))
    with pytest.raises(ConfigError, match="finite"):
        TrainConfig(train_manifests=("a.jsonl",), out_dir="run", source_weights=(float("nan"),))
    with pytest.raises(ConfigError, match="epoch_hours"):
        TrainConfig(train_manifests=("a.jsonl",), out_dir="run", epoch_hours=0.0)


def test_the_default_recipe_trains_on_real_speech_first():
    """recipes/default_model/config.toml: one weight per source, real speech the larger share, the starting
    checkpoint made by run.sh, and checkpoints chosen on real dev speakers only (run.sh stage 4)."""
    recipe = Path(__file__).parents[1] / "recipes/default_model"
    config = TrainConfig.from_dict(read_config_file(recipe / "config.toml"))
    assert len(config.source_weights) == len(config.train_manifests) and abs(sum(config.source_weights) - 1) < 1e-9
    script = (recipe / "run.sh").read_text()
    assert config.epoch_hours and f"start=$W/{Path(config.init_from).name}" in script and "git show" in script
    synthetic = [w for m, w in zip(config.train_manifests, config.source_weights) if "/synth/" in m or "/piper/" in m]
    assert synthetic and sum(synthetic) < 0.5
    dev_line = next(line for line in (recipe / "run.sh").read_text().splitlines() if "> $W/dev.jsonl" in line)
    assert config.dev_manifest == "work/default_model/dev.jsonl"
    assert "librispeech/dev" in dev_line and "speechocean762/dev" in dev_line and "synth" not in dev_line
