"""Training throughput: audio seconds trained per wall second, next to the raw model bound.

Both rows use the default model config and batches of 160 padded seconds, drawn by the
same length-bucketed sampler from the LJ Speech slice in ../shared/data.
  * "trainer": `speech2text.train.train`, the whole system: file reading, resampling,
    augmentation, log-mel, SpecAugment, CTC, AdamW, in its DataLoader. Two runs of
    different lengths are timed and subtracted, so start-up cost cancels out.
  * "model bound": the acoustic model's forward + CTC + backward + AdamW step alone, on
    random features of the same batch shapes, with nothing else to do.
The ratio says how much of the bound the data pipeline lets the trainer reach.

    .venv/bin/python benchmarks/train_throughput.py [--steps 12] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import soundfile
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from speech2text.data import BucketBatchSampler  # noqa: E402
from speech2text.model import AcousticModel, ModelConfig  # noqa: E402
from speech2text.text import normalize_text  # noqa: E402
from speech2text.train import TrainConfig, train  # noqa: E402

LJ = ROOT.parent / "shared" / "data" / "ljspeech-part"
BATCH_S = 160.0


def lj_manifest(path: Path) -> list[dict]:
    rows = []
    for line in (LJ / "metadata.csv").read_text().splitlines():
        utterance_id, _, text = line.split("|")
        audio = LJ / "wavs" / f"{utterance_id}.flac"
        rows.append({"audio": str(audio), "text": normalize_text(text), "duration": soundfile.info(str(audio)).duration})
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return rows


def trainer_seconds(manifest: Path, steps: int, threads: int, out: Path) -> float:
    config = TrainConfig(
        train_manifests=(str(manifest),), out_dir=str(out), max_steps=steps, epochs=1000, max_batch_s=BATCH_S,
        sorta_grad=False, log_every_steps=1, checkpoint_every_steps=10_000, threads=threads, progress=False,
    )
    started = time.perf_counter()
    train(config)
    return time.perf_counter() - started


def model_bound(rows: list[dict], steps: int, threads: int, config: ModelConfig = ModelConfig()) -> tuple[float, float]:
    """(seconds, audio seconds) for `steps` model-only training steps on the sampler's batch shapes."""
    torch.set_num_threads(threads)
    model = AcousticModel(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    ctc = torch.nn.CTCLoss(zero_infinity=True)
    batches = BucketBatchSampler([r["duration"] for r in rows], BATCH_S, seed=0).batches()[:steps]
    audio_s, elapsed = 0.0, 0.0
    for batch in batches:
        frames = torch.tensor([int(rows[i]["duration"] * 100) + 1 for i in batch])
        features = torch.randn(len(batch), int(frames.max()), 80)
        targets = torch.randint(2, 29, (len(batch), 40))
        started = time.perf_counter()
        log_probs, out_lengths = model(features, frames)
        loss = ctc(log_probs.transpose(0, 1), targets, out_lengths, torch.full((len(batch),), 40))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        elapsed += time.perf_counter() - started
        audio_s += sum(rows[i]["duration"] for i in batch)
    return elapsed, audio_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        rows = lj_manifest(folder / "lj.jsonl")
        short = trainer_seconds(folder / "lj.jsonl", 2, args.threads, folder / "short")
        long = trainer_seconds(folder / "lj.jsonl", 2 + args.steps, args.threads, folder / "long")
        logged = [json.loads(line) for line in (folder / "long" / "metrics.jsonl").read_text().splitlines()]
        trainer_audio_s = sum(r["audio_s"] for r in logged if r["kind"] == "train" and r["step"] > 2)
        bound_s, bound_audio_s = model_bound(rows, args.steps, args.threads)
    trainer_rate = trainer_audio_s / (long - short)
    bound_rate = bound_audio_s / bound_s
    print(f"default model ({sum(p.numel() for p in AcousticModel(ModelConfig()).parameters()) / 1e6:.2f} M parameters), "
          f"{BATCH_S:.0f} s batches, {args.steps} steps, {args.threads} threads, CPU\n")
    print("| what | audio s per wall s | share of the bound |\n|---|---:|---:|")
    print(f"| trainer (data loading, augmentation, features, CTC, AdamW) | {trainer_rate:.1f} | {100 * trainer_rate / bound_rate:.0f}% |")
    print(f"| model bound (forward + CTC + backward + AdamW on ready features) | {bound_rate:.1f} | 100% |")
    out = ROOT / "benchmarks" / "results" / "train_throughput.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"threads": args.threads, "steps": args.steps, "trainer_audio_s_per_s": trainer_rate,
                               "bound_audio_s_per_s": bound_rate}, indent=2))


if __name__ == "__main__":
    main()
