"""Fine-tuning keeps the starting checkpoint's frontend and alphabet and records where it came from;
a declared mixture trains end to end."""

from __future__ import annotations

import dataclasses

from speech2text.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from speech2text.features import FeatureConfig
from speech2text.model import AcousticModel, ModelConfig
from speech2text.text import Vocabulary
from speech2text.train import TrainConfig, train

TINY = ModelConfig(hidden_size=16, num_layers=1, conv_channels=16, dropout=0.0)


def config(manifest, out, **overrides) -> TrainConfig:
    settings = dict(
        train_manifests=(str(manifest),), out_dir=str(out), model=TINY, augment=None, max_steps=2, lr=1e-3,
        warmup_steps=1, max_batch_s=100.0, progress=False, threads=1, num_workers=0,
    )  # fmt: skip
    return TrainConfig(**{**settings, **overrides})


def test_fine_tuning_keeps_the_starting_features_and_records_the_chain(fsdd_manifest, tmp_path):
    # A starting model with a non-default frontend (hop 12.5 ms): fine-tuning must not reset it.
    features = dataclasses.replace(FeatureConfig(), hop_ms=12.5)
    start = tmp_path / "start.pt"
    save_checkpoint(start, Checkpoint(AcousticModel(TINY), features, Vocabulary(), {"name": "start", "step": 7}))
    first = train(config(fsdd_manifest, tmp_path / "first", init_from=str(start)))
    second = train(config(fsdd_manifest, tmp_path / "second", init_from=str(first)))
    tuned = load_checkpoint(second)
    assert tuned.feature_config == features
    assert tuned.vocabulary.symbols == Vocabulary().symbols
    chain = tuned.metadata["fine_tuned_from"]
    assert [link["path"] for link in chain] == [str(first), str(start)]
    assert chain[1]["name"] == "start" and chain[1]["step"] == 7


def test_a_declared_mixture_trains(fsdd_manifest, tmp_path):
    best = train(config(fsdd_manifest, tmp_path / "mix", train_manifests=(str(fsdd_manifest),) * 2,
                        source_weights=(1.0, 0.0), epoch_hours=0.002))  # fmt: skip
    assert load_checkpoint(best).metadata["step"] == 2
