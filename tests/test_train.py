import json

import pytest

from speech2text.checkpoint import load_checkpoint
from speech2text.data import read_manifest
from speech2text.model import ModelConfig
from speech2text.train import TrainConfig, train
from speech2text.transcribe import Transcriber

TINY = ModelConfig(hidden_size=64, num_layers=2, conv_channels=64, dropout=0.0)


def tiny_config(manifest, out, **overrides):
    settings = dict(
        train_manifests=(str(manifest),), out_dir=str(out), model=TINY, augment=None, epochs=1000, max_steps=500,
        lr=5e-3, warmup_steps=10, max_batch_s=100.0, log_every_steps=10, checkpoint_every_steps=100, progress=False,
        threads=1, num_workers=0,
    )
    return TrainConfig(**{**settings, **overrides})


@pytest.mark.slow
def test_tiny_model_overfits_real_digits_exactly(fsdd_manifest, tmp_path):
    best = train(tiny_config(fsdd_manifest, tmp_path / "run"))
    transcriber = Transcriber.from_pretrained(best)
    for row in read_manifest(fsdd_manifest):
        assert transcriber.transcribe(row["audio"]).text == row["text"]
    losses = [r["loss"] for r in map(json.loads, (tmp_path / "run" / "metrics.jsonl").read_text().splitlines())]
    assert losses[-1] < 0.05 * losses[0]
    assert (tmp_path / "run" / "metrics.png").stat().st_size > 1000
    assert json.loads((tmp_path / "run" / "config.json").read_text())["model"]["hidden_size"] == 64


def test_running_again_resumes_where_it_stopped(fsdd_manifest, tmp_path):
    out = tmp_path / "run"
    train(tiny_config(fsdd_manifest, out, max_steps=6, checkpoint_every_steps=3))
    first = load_checkpoint(out / "last.pt")
    assert first.trainer_state["progress"]["step"] == 6
    train(tiny_config(fsdd_manifest, out, max_steps=10, checkpoint_every_steps=3))
    second = load_checkpoint(out / "last.pt")
    assert second.trainer_state["progress"]["step"] == 10
    steps = [r["step"] for r in map(json.loads, (out / "metrics.jsonl").read_text().splitlines()) if r["kind"] == "train"]
    assert steps == sorted(set(steps))
