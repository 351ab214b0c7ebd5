"""torchrun DistributedDataParallel on CPU (gloo): 2 processes train the same model as 1."""

import json
import subprocess
import sys

import pytest
import soundfile
import torch
from conftest import DIGITS, FSDD

from speech2text.checkpoint import load_checkpoint
from speech2text.data import BucketBatchSampler

MAX_BATCH_S = 1.5


def digit_manifest(path):
    """The ten digits of one speaker, and one long "nine" that fills a batch alone."""
    recordings = [(digit, "jackson") for digit in range(10)] + [(9, "lucas")]
    rows = []
    for digit, speaker in recordings:
        audio = FSDD / f"{digit}_{speaker}_12.flac"
        rows.append({"audio": str(audio), "text": DIGITS[digit], "duration": soundfile.info(str(audio)).duration})
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return rows


@pytest.mark.slow
def test_two_torchrun_processes_train_the_same_model_as_one_and_resume(tmp_path):
    rows = digit_manifest(tmp_path / "digits.jsonl")
    batches = [_batches([r["duration"] for r in rows], epoch) for epoch in (0, 1)]
    # The fixture covers the two uneven cases: a batch of odd size (the ranks get 2 and 1 utterances)
    # and a batch of one utterance (rank 1 gets none and must still join the gradient all-reduce).
    sizes = {len(batch) for epoch in batches for batch in epoch}
    assert 1 in sizes and any(size % 2 for size in sizes if size > 1)
    steps = len(batches[0]) + len(batches[1])
    # max_steps fixes the learning-rate schedule's length, so that a run stopped after one epoch
    # (epochs=1) and resumed (epochs=2) follows the same schedule as one that runs straight through.
    config = {
        "train_manifests": [str(tmp_path / "digits.jsonl")], "out_dir": "unused", "epochs": 2, "max_steps": steps,
        "lr": 5e-3, "warmup_steps": 2, "max_batch_s": MAX_BATCH_S, "augment": False, "log_every_steps": 1,
        "checkpoint_every_steps": 1000, "num_workers": 0, "threads": 1, "progress": False, "device": "cpu",
        "model": {"hidden_size": 32, "num_layers": 2, "conv_channels": 32, "dropout": 0.0},
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    train = ["-m", "speech2text", "train", str(tmp_path / "config.json")]
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    one = subprocess.run([sys.executable, *train, f"out_dir={tmp_path / 'one'}"], capture_output=True, timeout=300)
    assert one.returncode == 0, one.stderr.decode()[-2000:]
    for epochs in (1, 2):  # the first epoch, then the second resumed from last.pt by both ranks
        two = subprocess.run([*torchrun, *train, f"out_dir={tmp_path / 'two'}", f"epochs={epochs}"],
                             capture_output=True, timeout=300)
        assert two.returncode == 0, two.stderr.decode()[-3000:]
    assert f"resuming from {tmp_path / 'two' / 'last.pt'}: epoch 1, step {len(batches[0])}\n" in two.stdout.decode()

    single, distributed = load_checkpoint(tmp_path / "one" / "last.pt"), load_checkpoint(tmp_path / "two" / "last.pt")
    assert single.trainer_state["progress"]["step"] == distributed.trainer_state["progress"]["step"] == steps
    assert len(distributed.trainer_state["rng"]) == 2  # each rank's RNG, for an exact resume
    # Both runs see the same batches in the same order; only the float summation order differs
    # (per-shard sums, then gloo's all-reduce): gradients agree to about 1e-7 relative. AdamW's
    # update lr * g / (|g| + eps) passes that on unchanged except for the few entries whose
    # gradient is near eps = 1e-8, where it is magnified by about |g| / eps. Measured after these
    # 10 steps: 6 of 60,285 weights differ by more than 1e-5, none by more than 7.6e-5 (lr: 5e-3).
    # So: every weight within lr / 10 and all but 0.1% within 1e-5. A wrong weighting of the
    # shards, or a lost shard, changes the direction of most updates and moves most weights by ~lr.
    difference = torch.cat([(a - b).abs().flatten() for a, b in
                            zip(single.model.state_dict().values(), distributed.model.state_dict().values())])
    assert float(difference.max()) < 5e-4
    assert float((difference > 1e-5).float().mean()) < 1e-3
    losses = [[r["loss"] for r in map(json.loads, (tmp_path / run / "metrics.jsonl").read_text().splitlines())
               if r["kind"] == "train"] for run in ("one", "two")]
    assert len(losses[0]) == steps
    torch.testing.assert_close(torch.tensor(losses[0]), torch.tensor(losses[1]), atol=0, rtol=1e-4)


def _batches(durations, epoch):
    sampler = BucketBatchSampler(durations, MAX_BATCH_S, sorta_grad=True)
    sampler.set_epoch(epoch)
    return sampler.batches()


def test_each_batch_is_split_between_the_ranks_exactly_once():
    durations = [0.3 + 0.07 * (i % 13) for i in range(101)]
    whole = BucketBatchSampler(durations, 4.0, seed=3)
    shards = [BucketBatchSampler(durations, 4.0, seed=3, rank=rank, world_size=3) for rank in range(3)]
    for epoch, skip in ((0, 0), (1, 5)):
        for sampler in (whole, *shards):
            sampler.set_epoch(epoch, skip_batches=skip)
        for batch, *parts in zip(whole, *shards, strict=True):
            assert sorted(index for part in parts for index in part) == sorted(batch)
            assert max(map(len, parts)) - min(map(len, parts)) <= 1  # balanced: no rank waits on a bigger share
