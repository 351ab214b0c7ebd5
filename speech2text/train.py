"""CTC training: a loop that knows nothing model-specific beyond (features, lengths) -> log-probs.

Resumable: `last.pt` in the run folder is rewritten atomically every few
hundred steps, after each dev evaluation and at the end, with optimizer,
scheduler, RNG and position in the epoch; running the same command again
continues from it. `best.pt` holds the model with the lowest dev WER (or the
final model when there is no dev set). `metrics.jsonl` and
`metrics.png` record the run.
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from .augment import AugmentConfig, SpecAugment, WaveAugment
from .checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from .data import BucketBatchSampler, SpeechDataset, collate, read_manifest
from .evaluate import evaluate
from .features import FeatureConfig, LogMel
from .model import AcousticModel, ModelConfig
from .text import Vocabulary
from .transcribe import Transcriber


@dataclass(frozen=True)
class TrainConfig:
    train_manifests: tuple[str, ...]
    out_dir: str
    dev_manifest: str | None = None
    model: ModelConfig = field(default_factory=ModelConfig)
    augment: AugmentConfig | None = field(default_factory=AugmentConfig)
    epochs: int = 20
    max_steps: int | None = None
    lr: float = 2e-3
    warmup_steps: int = 300
    weight_decay: float = 1e-2
    max_batch_s: float = 160.0
    sorta_grad: bool = True
    clip_norm: float = 5.0
    checkpoint_every_steps: int = 200
    log_every_steps: int = 20
    normalizer_utterances: int = 300
    init_from: str | None = None  # fine-tune: start from this checkpoint's weights and normalizer
    num_workers: int = 1
    threads: int = 2
    seed: int = 0
    progress: bool = True

    def to_dict(self) -> dict:
        return asdict(self)


def _lr_lambda(warmup_steps: int, total_steps: int):
    """Linear warmup to the peak, then cosine decay to 5% of it."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress))

    return factor


class MetricsLog:
    def __init__(self, path: Path):
        self.path = path

    def write(self, **record) -> None:
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")

    def read(self) -> list[dict]:
        return [json.loads(line) for line in self.path.read_text().splitlines()] if self.path.exists() else []


def plot_metrics(records: list[dict], path: Path) -> None:
    """Training loss and dev WER/CER against steps, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train = [r for r in records if r["kind"] == "train"]
    dev = [r for r in records if r["kind"] == "dev"]
    figure, (loss_axis, error_axis) = plt.subplots(1, 2, figsize=(11, 4))
    loss_axis.plot([r["step"] for r in train], [r["loss"] for r in train])
    loss_axis.set(xlabel="step", ylabel="CTC loss", title="training loss", yscale="log")
    if dev:
        error_axis.plot([r["step"] for r in dev], [100 * r["wer"] for r in dev], "o-", label="WER")
        error_axis.plot([r["step"] for r in dev], [100 * r["cer"] for r in dev], "s-", label="CER")
        error_axis.legend()
    error_axis.set(xlabel="step", ylabel="%", title="dev error rates")
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def training_hours(rows: list[dict]) -> float:
    """Hours of distinct audio (a manifest listed twice, to weight it, counts once)."""
    return sum({row["audio"]: row["duration"] for row in rows}.values()) / 3600


def fit_normalizer(model: AcousticModel, frontend: LogMel, dataset: SpeechDataset, count: int, seed: int) -> None:
    indices = random.Random(seed).sample(range(len(dataset)), min(count, len(dataset)))
    samples, lengths, _, _ = collate([dataset[i] for i in indices])
    with torch.no_grad():
        features, frame_lengths = frontend(samples, lengths)
    model.normalizer.fit(features, frame_lengths)


def train(config: TrainConfig) -> Path:
    """Train (or resume) and return the path of the best checkpoint."""
    torch.set_num_threads(config.threads)
    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(config.to_dict(), indent=2))
    metrics = MetricsLog(out / "metrics.jsonl")

    vocabulary, feature_config = Vocabulary(), FeatureConfig()
    rows = [row for manifest in config.train_manifests for row in read_manifest(manifest)]
    rows = [row for row in rows if row["text"]]
    dev_rows = read_manifest(config.dev_manifest) if config.dev_manifest else []
    dataset = SpeechDataset(rows, vocabulary)
    sampler = BucketBatchSampler(
        [row["duration"] for row in rows], config.max_batch_s, seed=config.seed, sorta_grad=config.sorta_grad
    )
    loader = DataLoader(
        dataset, batch_sampler=sampler, collate_fn=collate, num_workers=config.num_workers,
        persistent_workers=False, prefetch_factor=4 if config.num_workers else None,
    )
    total_steps = config.max_steps or config.epochs * len(sampler.batches())

    initial = load_checkpoint(config.init_from) if config.init_from else None
    model = AcousticModel(initial.model.config if initial else config.model)
    if initial:
        model.load_state_dict(initial.model.state_dict())
    frontend = LogMel(feature_config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(config.warmup_steps, total_steps))
    ctc = torch.nn.CTCLoss(blank=vocabulary.blank_id, zero_infinity=True)
    rng = random.Random(config.seed)
    torch.manual_seed(config.seed)
    state = {"epoch": 0, "batch_in_epoch": 0, "step": 0, "best_wer": float("inf"), "skipped_losses": 0, "train_s": 0.0}

    last_path = out / "last.pt"
    if last_path.exists():
        resumed = load_checkpoint(last_path)
        model.load_state_dict(resumed.model.state_dict())
        trainer_state = resumed.trainer_state
        optimizer.load_state_dict(trainer_state["optimizer"])
        scheduler.load_state_dict(trainer_state["scheduler"])
        torch.set_rng_state(trainer_state["torch_rng"])
        rng.setstate(trainer_state["python_rng"])
        state.update(trainer_state["progress"])
        print(f"resuming from {last_path}: epoch {state['epoch']}, step {state['step']}")
    elif not initial:
        fit_normalizer(model, frontend, dataset, config.normalizer_utterances, config.seed)

    wave_augment = WaveAugment(config.augment, rng) if config.augment else None
    spec_augment = SpecAugment(config.augment) if config.augment else None

    def save(path: Path, with_trainer: bool = True) -> None:
        trainer_state = None
        if with_trainer:
            trainer_state = {
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "torch_rng": torch.get_rng_state(),
                "python_rng": rng.getstate(),
                "progress": dict(state),
            }
        metadata = {"train_config": config.to_dict(), "step": state["step"], "epoch": state["epoch"],
                    "train_hours": training_hours(rows), "train_s": state["train_s"]}
        save_checkpoint(path, Checkpoint(model, feature_config, vocabulary, metadata, trainer_state))

    def done() -> bool:
        return config.max_steps is not None and state["step"] >= config.max_steps

    while state["epoch"] < config.epochs and not done():
        sampler.set_epoch(state["epoch"], skip_batches=state["batch_in_epoch"])
        model.train()
        progress = tqdm(loader, desc=f"epoch {state['epoch']}", disable=not config.progress)
        started = time.perf_counter()
        for samples, sample_lengths, targets, target_lengths in progress:
            if wave_augment:
                samples, sample_lengths = wave_augment(samples, sample_lengths)
            with torch.no_grad():
                features, frame_lengths = frontend(samples, sample_lengths)
                if spec_augment:
                    features = spec_augment(features, model.normalizer.mean)
            log_probs, out_lengths = model(features, frame_lengths)
            loss = ctc(log_probs.transpose(0, 1), targets, out_lengths, target_lengths)
            optimizer.zero_grad(set_to_none=True)
            state["batch_in_epoch"] += 1
            if not torch.isfinite(loss) or loss.item() == 0.0:
                state["skipped_losses"] += 1
                continue
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
            if not torch.isfinite(grad_norm):
                state["skipped_losses"] += 1
                optimizer.zero_grad(set_to_none=True)
                continue
            optimizer.step()
            scheduler.step()
            state["step"] += 1
            progress.set_postfix(loss=f"{loss.item():.3f}", lr=f"{scheduler.get_last_lr()[0]:.2e}")
            if state["step"] % config.log_every_steps == 0:
                metrics.write(kind="train", step=state["step"], epoch=state["epoch"], loss=loss.item(),
                              lr=scheduler.get_last_lr()[0], grad_norm=float(grad_norm),
                              audio_s=float(sample_lengths.sum()) / feature_config.sample_rate,
                              skipped_losses=state["skipped_losses"])
            if state["step"] % config.checkpoint_every_steps == 0:
                state["train_s"] += time.perf_counter() - started
                started = time.perf_counter()
                save(last_path)
            if done():
                break
        state["train_s"] += time.perf_counter() - started
        if not done():
            state["epoch"] += 1
            state["batch_in_epoch"] = 0
        if dev_rows:
            result = evaluate(Transcriber(Checkpoint(model, feature_config, vocabulary)), dev_rows, progress=False)
            metrics.write(kind="dev", step=state["step"], epoch=state["epoch"], wer=result.wer, cer=result.cer)
            print(f"epoch {state['epoch']} step {state['step']}: dev WER {100 * result.wer:.1f}% CER {100 * result.cer:.1f}%")
            if result.wer <= state["best_wer"]:
                state["best_wer"] = result.wer
                save(out / "best.pt", with_trainer=False)
            plot_metrics(metrics.read(), out / "metrics.png")
            save(last_path)
    save(last_path)
    if not dev_rows:
        save(out / "best.pt", with_trainer=False)
    plot_metrics(metrics.read(), out / "metrics.png")
    return out / "best.pt"
