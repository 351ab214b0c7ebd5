import json
import re

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
        assert transcriber.transcribe(row["audio"], decoder="greedy").text == row["text"]
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


@pytest.mark.slow
def test_training_killed_with_sigkill_resumes_from_its_last_checkpoint(fsdd_manifest, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "run"
    command = [sys.executable, "-m", "speech2text", "train", "--train", str(fsdd_manifest), "--out", str(out),
               "--epochs", "1000", "--max-steps", "400", "--checkpoint-every", "5", "--hidden-size", "32",
               "--num-layers", "1", "--conv-channels", "32", "--no-augment", "--workers", "0", "--threads", "1"]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (out / "last.pt").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)
    first.send_signal(signal.SIGKILL)
    first.wait()
    killed_at = load_checkpoint(out / "last.pt").trainer_state["progress"]["step"]
    assert 5 <= killed_at < 400  # and last.pt loaded: the kill never leaves a half-written checkpoint
    second = subprocess.run(command, capture_output=True, timeout=600)
    assert second.returncode == 0, second.stderr.decode()[-2000:]
    assert re.search(rf"resuming from {re.escape(str(out / 'last.pt'))}: epoch \d+, step {killed_at}\n", second.stdout.decode())
    assert load_checkpoint(out / "last.pt").trainer_state["progress"]["step"] == 400
    steps = [r["step"] for r in map(json.loads, (out / "metrics.jsonl").read_text().splitlines()) if r["kind"] == "train"]
    assert sorted(set(steps)) == list(range(20, 401, 20))


def test_init_from_starts_fine_tuning_at_the_given_weights(fsdd_manifest, tmp_path):
    import torch

    base = train(tiny_config(fsdd_manifest, tmp_path / "base", max_steps=3))
    tuned = train(tiny_config(fsdd_manifest, tmp_path / "tuned", max_steps=1, lr=1e-12, init_from=str(base),
                              model=ModelConfig(hidden_size=8)))
    before, after = load_checkpoint(base).model, load_checkpoint(tuned).model
    assert after.config == TINY  # the checkpoint's sizes win over the config's
    assert torch.equal(before.normalizer.mean, after.normalizer.mean)
    for (name, a), b in zip(before.state_dict().items(), after.state_dict().values()):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=0, msg=name)
