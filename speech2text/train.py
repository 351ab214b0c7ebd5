"""CTC training: a loop that knows nothing model-specific beyond (features, lengths) -> log-probs.

Resumable: `last.pt` in the run folder is rewritten atomically every few
hundred steps, after each dev evaluation and at the end, with optimizer,
scheduler, RNG and position in the epoch; running the same command again
continues from it. `best.pt` holds the model with the lowest dev WER (or the
final model when there is no dev set). `metrics.jsonl` and
`metrics.png` record the run; `config.json` is the resolved config.

Distributed: started by `torchrun`, every process trains on its share of each
batch with DistributedDataParallel (gloo on CPU, NCCL on CUDA). A batch of
`max_batch_s` seconds is the global batch, split between the processes, and
the loss is weighted so that the gradient equals the one-process gradient of
the whole batch: the same config trains the same model on 1 or N processes.
Only rank 0 evaluates and writes files; every rank resumes from `last.pt`.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import json
import math
import os
import random
import time
import types
import typing
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader
from tqdm import tqdm

from .augment import AugmentConfig, SpecAugment, WaveAugment
from .bundled import resolve_model
from .checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from .data import BucketBatchSampler, MixtureBatchSampler, SpeechDataset, collate, ctc_frames_needed
from .errors import Speech2TextError
from .evaluate import evaluate
from .features import NORMALIZATIONS, FeatureConfig, LogMel
from .files import refuse_overwriting_input, write_text_atomically
from .manifest import ManifestError, SkippedRows, read_manifest
from .model import AcousticModel, ModelConfig, subsampled_frames
from .text import Vocabulary
from .transcribe import Transcriber

DEVICES = ("auto", "cpu", "cuda")


# What a run writes in its folder (out_dir), besides temporaries of these names.
RUN_FILES = ("config.json", "metrics.jsonl", "metrics.png", "last.pt", "best.pt")


class ConfigError(Speech2TextError, ValueError):
    """A config file or override that does not describe a TrainConfig."""


@dataclass(frozen=True)
class TrainConfig:
    train_manifests: tuple[str, ...]
    out_dir: str
    dev_manifest: str | None = None
    # A declared data mixture: one sampling weight per training manifest, and the hours of audio an
    # epoch draws (MixtureBatchSampler). Empty: every utterance once per epoch.
    source_weights: tuple[float, ...] = ()
    epoch_hours: float | None = None
    model: ModelConfig = field(default_factory=ModelConfig)
    augment: AugmentConfig | None = field(default_factory=AugmentConfig)
    epochs: int = 20
    max_steps: int | None = None
    lr: float = 2e-3
    warmup_steps: int = 300
    weight_decay: float = 1e-2
    max_batch_s: float = 160.0  # padded audio seconds per batch, all processes together
    sorta_grad: bool = True
    clip_norm: float = 5.0
    checkpoint_every_steps: int = 200
    log_every_steps: int = 20
    normalizer_utterances: int = 300
    init_from: str | None = None  # fine-tune: start from this checkpoint (or bundled model name)
    # The features' normalization (features.NORMALIZATIONS) when set: fine-tuning otherwise keeps the
    # starting model's whole config, this one setting included.
    normalization: str | None = None
    patience: int | None = None  # stop after this many dev evaluations without a better (WER, CER)
    device: str = "auto"  # auto: CUDA when there is one
    amp: bool = True  # bfloat16 autocast on CUDA; CPU always trains in float32
    num_workers: int = 1
    threads: int = 2
    seed: int = 0
    progress: bool = True

    def __post_init__(self):
        if not self.train_manifests:
            raise ConfigError("train_manifests: at least one training manifest is needed")
        if self.device not in DEVICES:
            raise ConfigError(f"device must be one of {', '.join(DEVICES)}, not {self.device!r}")
        if self.patience is not None and self.patience < 1:
            raise ConfigError(f"patience must be at least 1, not {self.patience}")
        if self.source_weights:
            if len(self.source_weights) != len(self.train_manifests):
                raise ConfigError(f"source_weights: {len(self.source_weights)} weights for "
                                  f"{len(self.train_manifests)} train_manifests; give one per manifest")
            if not all(math.isfinite(w) and w >= 0 for w in self.source_weights) or not sum(self.source_weights):
                raise ConfigError(f"source_weights must be finite, >= 0 and not all 0, not {self.source_weights}")
        if self.epoch_hours is not None and not (math.isfinite(self.epoch_hours) and self.epoch_hours > 0):
            raise ConfigError(f"epoch_hours must be a positive number, not {self.epoch_hours}")
        if self.normalization is not None and self.normalization not in NORMALIZATIONS:
            raise ConfigError(f"normalization must be one of {', '.join(NORMALIZATIONS)}, not {self.normalization!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        """The config described by a (possibly partial) nested dict, types checked; the inverse of to_dict."""
        return _build_dataclass(cls, values, "")


def _build_dataclass(kind, values: dict, prefix: str):
    hints = typing.get_type_hints(kind)
    names = [f.name for f in dataclasses.fields(kind)]
    for key in values:
        if key not in names:
            raise ConfigError(f"unknown config key '{prefix}{key}' (known: {', '.join(names)})")
    missing = [f.name for f in dataclasses.fields(kind) if f.name not in values
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ConfigError(f"the config needs {prefix}{missing[0]}")
    try:
        return kind(**{key: _coerce(prefix + key, value, hints[key]) for key, value in values.items()})
    except TypeError as error:
        raise ConfigError(f"{prefix or 'config'}: {error}") from None


def _coerce(name: str, value, hint):
    """`value` from JSON/TOML as type `hint`; raises ConfigError naming the key."""
    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        inner = next(a for a in typing.get_args(hint) if a is not type(None))
        # TOML has no null: `augment = false` switches an optional section off.
        if value is None or (value is False and dataclasses.is_dataclass(inner)):
            return None
        return _coerce(name, value, inner)
    if typing.get_origin(hint) is tuple:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{name}: expected a list, not {value!r}")
        items = typing.get_args(hint)
        if items[-1] is not Ellipsis and len(items) != len(value):
            raise ConfigError(f"{name}: expected {len(items)} values, not {value!r}")
        return tuple(_coerce(f"{name}[{i}]", v, items[0] if items[-1] is Ellipsis else items[i])
                     for i, v in enumerate(value))
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise ConfigError(f"{name}: expected a table of {hint.__name__} settings, not {value!r}")
        return _build_dataclass(hint, value, f"{name}.")
    accepted = {float: (int, float), int: (int,), bool: (bool,), str: (str,)}[hint]
    if not isinstance(value, accepted) or (isinstance(value, bool) and hint is not bool):
        raise ConfigError(f"{name}: expected {hint.__name__}, not {value!r}")
    return hint(value)


def read_config_file(path: str | Path) -> dict:
    """A TrainConfig as a nested dict from a .json or .toml file (the run folder's config.json reads back too)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    try:
        if path.suffix == ".toml":
            try:
                import tomllib
            except ImportError:  # the standard library reads TOML from Python 3.11 on
                raise ConfigError(f"{path}: TOML configs need Python 3.11 or later; use a .json config") from None
            return tomllib.loads(path.read_text(encoding="utf-8"))
        if path.suffix == ".json":
            return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:  # JSONDecodeError and TOMLDecodeError are both ValueErrors
        raise ConfigError(f"{path}: not valid {path.suffix[1:].upper()} ({error})") from None
    raise ConfigError(f"{path}: a config file ends in .json or .toml")


def apply_overrides(values: dict, overrides: list[str]) -> dict:
    """`["model.hidden_size=256", "epochs=3"]` applied to a nested dict (a copy).

    Values are read as JSON where they parse (numbers, true/false/null, ["lists"]), else as strings.
    """
    values = json.loads(json.dumps(values))
    for override in overrides:
        key, sep, text = override.partition("=")
        if not sep or not key:
            raise ConfigError(f"expected KEY=VALUE, not {override!r}")
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        set_config_value(values, key, value)
    return values


def set_config_value(values: dict, dotted_key: str, value) -> None:
    """values["model"]["hidden_size"] = value for "model.hidden_size", making the tables on the way."""
    *parents, leaf = dotted_key.split(".")
    node = values
    for parent in parents:
        if not isinstance(node.get(parent), dict):
            node[parent] = {}
        node = node[parent]
    node[leaf] = value


def _lr_lambda(warmup_steps: int, total_steps: int):
    """Linear warmup to the peak, then cosine decay to 5% of it."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress))

    return factor


class MetricsLog:
    """metrics.jsonl: one JSON record per line, appended; `lines` counts them, so that a checkpoint can record
    how much of the log it accounts for and a resumed run can drop what was logged after it."""

    def __init__(self, path: Path):
        self.path = path
        self.lines = len(self.path.read_text().splitlines()) if self.path.exists() else 0

    def write(self, **record) -> None:
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")
        self.lines += 1

    def truncate(self, lines: int) -> int:
        """Keep the first `lines` records; returns how many were dropped."""
        kept = self.path.read_text().splitlines()[:lines] if self.path.exists() else []
        dropped = self.lines - len(kept)
        if dropped > 0:
            write_text_atomically(self.path, "".join(line + "\n" for line in kept))
            self.lines = len(kept)
        return max(0, dropped)

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


def _mixture_table(config: TrainConfig, rows: list[dict], epoch_hours: float) -> str:
    """What each source holds and how much of every epoch it gives."""
    total = sum(config.source_weights)
    lines = [f"data mixture, {epoch_hours:.2f} h per epoch:"]
    for i, (manifest, weight) in enumerate(zip(config.train_manifests, config.source_weights)):
        hours = training_hours([row for row in rows if row["source"] == i])
        share = epoch_hours * weight / total
        lines.append(f"  {weight / total:6.1%}  {share:6.2f} h of {hours:6.2f} h ({share / max(hours, 1e-9):4.1f}x)  {manifest}")
    return "\n".join(lines)


def raise_unreadable(unreadable: list[tuple[str, str]]) -> None:
    """ManifestError for training rows none of which could be read, with the commonest reason."""
    reasons = collections.Counter(reason for _, reason in unreadable).most_common(1)
    why = f" (for example {unreadable[0][0]}: {reasons[0][0]})" if reasons else ""
    raise ManifestError(f"no training row's audio could be read{why}")


def fit_normalizer(model: AcousticModel, frontend: LogMel, dataset: SpeechDataset, count: int, seed: int) -> None:
    indices = random.Random(seed).sample(range(len(dataset)), min(count, len(dataset)))
    samples, lengths, _, _, unreadable = collate([dataset[i] for i in indices])
    if not len(lengths):
        raise_unreadable(unreadable)
    with torch.no_grad():
        features, frame_lengths = frontend(samples, lengths)
    model.normalizer.fit(features, frame_lengths)


def usable_rows(rows: list[dict], vocabulary: Vocabulary, feature_config: FeatureConfig, subsampling: int,
                skipped: SkippedRows) -> list[dict]:
    """The rows CTC can learn from; the rest counted in `skipped`: no text left after normalization, or
    audio too short for its text (fewer output frames than CTC needs: such a row's loss is infinite, and
    CTCLoss' zero_infinity would silently make it 0)."""
    kept = []
    for row in rows:
        if not row["text"]:
            skipped.add(row["audio"], "empty text")
            continue
        frames = feature_config.num_frames(int(row["duration"] * feature_config.sample_rate))
        if subsampled_frames(frames, subsampling) < ctc_frames_needed(vocabulary.encode(row["text"])):
            skipped.add(row["audio"], "audio too short for its text")
            continue
        kept.append(row)
    return kept


def remove_stale_temporaries(out: Path) -> None:
    """Half-written checkpoints (.last.pt.tmpPID) that a kill left behind: the complete ones were never touched."""
    for tmp in out.glob(".*.pt.tmp*"):
        tmp.unlink(missing_ok=True)
        print(f"removed {tmp.name}, a checkpoint write that was interrupted")


@dataclass(frozen=True)
class Distributed:
    """This process's place in a torchrun job (rank 0 of 1 when started without torchrun)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @classmethod
    def from_environment(cls) -> Distributed:
        """torchrun sets RANK, WORLD_SIZE and LOCAL_RANK (and MASTER_ADDR/PORT, read by init_process_group)."""
        if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
            return cls()
        return cls(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ.get("LOCAL_RANK", "0")))

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def pick_device(name: str, local_rank: int = 0) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError("device cuda: no CUDA device is available here")
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    return torch.device("cpu")


def cpu_copy(model: AcousticModel) -> AcousticModel:
    copy = AcousticModel(model.config)
    copy.load_state_dict({name: tensor.detach().cpu() for name, tensor in model.state_dict().items()})
    return copy


def train(config: TrainConfig) -> Path:
    """Train (or resume) and return the path of the best checkpoint.

    Under torchrun every process calls this with the same config.
    """
    run = Distributed.from_environment()
    device = pick_device(config.device, run.local_rank)
    if run.enabled:
        if device.type == "cuda":
            torch.cuda.set_device(device)
        # The other ranks wait in a collective while rank 0 scores the dev set on its CPU, which for a
        # large dev set can outlast the default timeout (10 minutes for NCCL).
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", timeout=datetime.timedelta(hours=2))
    try:
        return _train(config, run, device)
    finally:
        if run.enabled:
            dist.destroy_process_group()


def _train(config: TrainConfig, run: Distributed, device: torch.device) -> Path:
    torch.set_num_threads(config.threads)
    initial = load_checkpoint(resolve_model(config.init_from)) if config.init_from else None
    # Fine-tuning keeps the starting model's architecture: config.json and checkpoints record it.
    model_config = initial.model.config if initial else config.model
    if config.normalization:
        model_config = replace(model_config, normalization=config.normalization)
    config = replace(config, model=model_config)
    out = Path(config.out_dir)
    inputs = [*config.train_manifests, *filter(None, [config.dev_manifest]),
              *([resolve_model(config.init_from)] if config.init_from else [])]
    for name in RUN_FILES:  # before anything is written: a run never writes over its own input
        refuse_overwriting_input(out / name, inputs)
    if run.is_main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(json.dumps(config.to_dict(), indent=2))
    metrics = MetricsLog(out / "metrics.jsonl")
    say = print if run.is_main else (lambda *args, **kwargs: None)

    # Fine-tuning keeps the starting model's frontend and alphabet, not today's defaults.
    vocabulary, feature_config = ((initial.vocabulary, initial.feature_config) if initial
                                  else (Vocabulary(), FeatureConfig()))
    # The chain of checkpoints this model was fine-tuned from, newest first.
    lineage = ([{"path": str(config.init_from), "step": initial.metadata.get("step"),
                 "name": initial.metadata.get("name")}, *initial.metadata.get("fine_tuned_from", [])]
               if initial else [])
    # A bad row is skipped, named and counted, never the end of the run (SkippedRows).
    skipped = SkippedRows()
    rows = [row | {"source": i} for i, manifest in enumerate(config.train_manifests)
            for row in read_manifest(manifest, skipped)]
    rows = usable_rows(rows, vocabulary, feature_config, config.model.subsampling, skipped)
    if not rows:
        raise ManifestError(f"no usable training row ({skipped.summary()})")
    dev_rows = read_manifest(config.dev_manifest, skipped) if config.dev_manifest else []
    dataset = SpeechDataset(rows, vocabulary)
    durations = [row["duration"] for row in rows]
    batching = {"seed": config.seed, "sorta_grad": config.sorta_grad, "rank": run.rank, "world_size": run.world_size}
    if config.source_weights:
        epoch_hours = config.epoch_hours or training_hours(rows)
        sampler = MixtureBatchSampler(durations, [row["source"] for row in rows], list(config.source_weights),
                                      epoch_hours, config.max_batch_s, **batching)
        say(_mixture_table(config, rows, epoch_hours))
    else:
        sampler = BucketBatchSampler(durations, config.max_batch_s, **batching)
    loader = DataLoader(
        dataset, batch_sampler=sampler, collate_fn=collate, num_workers=config.num_workers,
        persistent_workers=False, prefetch_factor=4 if config.num_workers else None,
        pin_memory=device.type == "cuda",
    )
    total_steps = config.max_steps or config.epochs * len(sampler.batches())

    # The same seed on every rank gives every rank the same initial weights (DDP would broadcast rank 0's anyway).
    torch.manual_seed(config.seed)
    model = AcousticModel(config.model)
    if initial:
        model.load_state_dict(initial.model.state_dict())
    frontend = LogMel(feature_config)
    # Augmentation and dropout draw differently on each rank: each sees other utterances.
    rng = random.Random(config.seed + run.rank)
    if run.rank:
        torch.manual_seed(config.seed + run.rank)
    state = {"epoch": 0, "batch_in_epoch": 0, "step": 0, "best_wer": float("inf"), "best_cer": float("inf"),
             "evals_without_improvement": 0, "stopped_early": False, "skipped_losses": 0, "train_s": 0.0,
             "skipped_rows": {}, "metrics_lines": None}

    last_path = out / "last.pt"
    resumed = load_checkpoint(last_path) if last_path.exists() else None
    if resumed:
        model.load_state_dict(resumed.model.state_dict())
    elif not initial:
        fit_normalizer(model, frontend, dataset, config.normalizer_utterances, config.seed)
    model.to(device)
    frontend.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(config.warmup_steps, total_steps))
    if resumed:
        trainer_state = resumed.trainer_state
        optimizer.load_state_dict(trainer_state["optimizer"])
        scheduler.load_state_dict(trainer_state["scheduler"])
        # Checkpoints from before distributed training held one process's RNG under these two keys.
        rng_states = trainer_state.get("rng") or [
            {"torch": trainer_state["torch_rng"], "python": trainer_state["python_rng"]}]
        if run.rank < len(rng_states):  # a run resumed on more processes than it had: the new ranks keep their seeds
            torch.set_rng_state(rng_states[run.rank]["torch"])
            rng.setstate(rng_states[run.rank]["python"])
            if device.type == "cuda" and "cuda" in rng_states[run.rank]:
                torch.cuda.set_rng_state(rng_states[run.rank]["cuda"], device)
        state.update(trainer_state["progress"])
        say(f"resuming from {last_path}: epoch {state['epoch']}, step {state['step']}")
        if run.is_main and state["metrics_lines"] is not None:
            # Records written after this checkpoint would be written again: drop them.
            dropped = metrics.truncate(state["metrics_lines"])
            if dropped:
                say(f"metrics.jsonl: dropped {dropped} records logged after that checkpoint")
    if run.is_main:
        remove_stale_temporaries(out)
    resumed_at_step = state["step"]

    trainable = model
    if run.enabled:
        device_ids = [device] if device.type == "cuda" else None
        trainable = torch.nn.parallel.DistributedDataParallel(model, device_ids=device_ids)
    use_amp = config.amp and device.type == "cuda"
    wave_augment = WaveAugment(config.augment, rng) if config.augment else None
    spec_augment = SpecAugment(config.augment, rng).to(device) if config.augment else None
    ctc = torch.nn.CTCLoss(blank=vocabulary.blank_id, reduction="none", zero_infinity=True)

    def save(path: Path, with_trainer: bool = True) -> None:
        """Collective under torchrun (every rank's RNG is gathered); rank 0 writes."""
        trainer_state = None
        if with_trainer:
            rng_state = {"torch": torch.get_rng_state(), "python": rng.getstate()}
            if device.type == "cuda":
                rng_state["cuda"] = torch.cuda.get_rng_state(device)
            rng_states = [rng_state]
            if run.enabled:
                rng_states = [None] * run.world_size
                on_cpu = {k: v.cpu() if torch.is_tensor(v) else v for k, v in rng_state.items()}
                dist.all_gather_object(rng_states, on_cpu)
            state["skipped_rows"] = dict(skipped.counts)
            state["metrics_lines"] = metrics.lines
            trainer_state = {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                             "rng": rng_states, "progress": dict(state)}
        if not run.is_main:
            return
        metadata = {"train_config": config.to_dict(), "step": state["step"], "epoch": state["epoch"],
                    "train_hours": training_hours(rows), "train_s": state["train_s"], "fine_tuned_from": lineage}
        save_checkpoint(path, Checkpoint(model, feature_config, vocabulary, metadata, trainer_state))

    def loss_sum(samples, sample_lengths, targets, target_lengths) -> torch.Tensor:
        """The sum over this shard of each utterance's CTC loss per target symbol (the terms of CTCLoss' mean)."""
        if samples.shape[0] == 0:
            # An empty shard (a batch of fewer utterances than processes): a zero-weighted pass over
            # a few frames of silence, so that this rank still joins DDP's gradient all-reduce.
            features = torch.zeros(1, 8, feature_config.n_mels, device=device)
            log_probs, _ = trainable(features, torch.tensor([8], device=device))
            return log_probs.float().sum() * 0.0
        with torch.no_grad():
            features, frame_lengths = frontend(samples, sample_lengths)
            if spec_augment:
                features = spec_augment(features, model.normalizer.mean, frame_lengths)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
            log_probs, out_lengths = trainable(features, frame_lengths)
        losses = ctc(log_probs.float().transpose(0, 1), targets, out_lengths, target_lengths)
        return (losses / target_lengths.clamp_min(1)).sum()

    def done() -> bool:
        return config.max_steps is not None and state["step"] >= config.max_steps

    while state["epoch"] < config.epochs and not done() and not state["stopped_early"]:
        sampler.set_epoch(state["epoch"], skip_batches=state["batch_in_epoch"])
        model.train()
        progress = tqdm(loader, desc=f"epoch {state['epoch']}", disable=not (config.progress and run.is_main))
        started = time.perf_counter()
        batches_seen, utterances_read, unread = 0, 0.0, []
        for samples, sample_lengths, targets, target_lengths, unreadable in progress:
            for audio, reason in unreadable:
                skipped.add(audio, reason)
            unread += unreadable[:1]
            if wave_augment and samples.shape[0]:
                samples, sample_lengths = wave_augment(samples, sample_lengths)
            samples, sample_lengths, targets, target_lengths = (
                t.to(device, non_blocking=True) for t in (samples, sample_lengths, targets, target_lengths))
            optimizer.zero_grad(set_to_none=True)
            shard_loss = loss_sum(samples, sample_lengths, targets, target_lengths)
            # [loss sum, utterances, audio samples] over all ranks: every rank then takes the same
            # skip decision, and the logged loss is the one-process loss of the whole batch.
            totals = torch.stack([shard_loss.detach(), torch.tensor(float(samples.shape[0]), device=device),
                                  sample_lengths.sum().float()])
            if run.enabled:
                dist.all_reduce(totals)
            batches_seen, utterances_read = batches_seen + 1, utterances_read + float(totals[1])
            batch_loss = float(totals[0] / totals[1].clamp_min(1))
            # DDP averages gradients over ranks; scaling by world_size / utterances turns that into the batch mean.
            (shard_loss * (run.world_size / totals[1].clamp_min(1))).backward()
            state["batch_in_epoch"] += 1
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
            if not math.isfinite(batch_loss) or batch_loss == 0.0 or not torch.isfinite(grad_norm):
                state["skipped_losses"] += 1
                continue
            optimizer.step()
            scheduler.step()
            state["step"] += 1
            progress.set_postfix(loss=f"{batch_loss:.3f}", lr=f"{scheduler.get_last_lr()[0]:.2e}")
            if run.is_main and state["step"] % config.log_every_steps == 0:
                metrics.write(kind="train", step=state["step"], epoch=state["epoch"], loss=batch_loss,
                              lr=scheduler.get_last_lr()[0], grad_norm=float(grad_norm),
                              audio_s=float(totals[2]) / feature_config.sample_rate,
                              skipped_losses=state["skipped_losses"], skipped_rows=dict(skipped.counts))
            if state["step"] % config.checkpoint_every_steps == 0:
                state["train_s"] += time.perf_counter() - started
                started = time.perf_counter()
                save(last_path)
            if done():
                break
        state["train_s"] += time.perf_counter() - started
        if batches_seen and not utterances_read:  # an epoch with nothing readable would repeat for ever
            raise_unreadable(unread)
        if not done():
            state["epoch"] += 1
            state["batch_in_epoch"] = 0
        if dev_rows:
            if run.is_main:
                evaluate_dev(model, feature_config, vocabulary, dev_rows, state, config, metrics, save, out)
            if run.enabled:
                shared = [state]
                dist.broadcast_object_list(shared, src=0)
                state.update(shared[0])
            save(last_path)
    if run.is_main and not (resumed and state["step"] == resumed_at_step):  # a finished run run again adds nothing
        metrics.write(kind="summary", step=state["step"], epoch=state["epoch"], skipped_rows=dict(skipped.counts),
                      skipped_losses=state["skipped_losses"])
        say(f"{skipped.summary()}; {state['skipped_losses']} batches skipped for a non-finite or zero loss")
    save(last_path)
    if not dev_rows:
        save(out / "best.pt", with_trainer=False)
    if run.is_main:
        plot_metrics(metrics.read(), out / "metrics.png")
    if run.enabled:
        dist.barrier()  # no rank returns before rank 0 has written best.pt
    return out / "best.pt"


def evaluate_dev(model, feature_config, vocabulary, dev_rows, state, config, metrics, save, out) -> None:
    """Greedy WER/CER on the dev set (rank 0 only); keeps best.pt and the early-stopping count in `state`."""
    evaluated = cpu_copy(model) if next(model.parameters()).device.type != "cpu" else model
    result = evaluate(Transcriber(Checkpoint(evaluated, feature_config, vocabulary)), dev_rows, progress=False,
                      decoder="greedy")
    improved = (result.wer, result.cer) < (state["best_wer"], state["best_cer"])
    if improved:
        state["best_wer"], state["best_cer"] = result.wer, result.cer
        state["evals_without_improvement"] = 0
        save(out / "best.pt", with_trainer=False)
    else:
        state["evals_without_improvement"] += 1
    metrics.write(kind="dev", step=state["step"], epoch=state["epoch"], wer=result.wer, cer=result.cer,
                  best_wer=state["best_wer"], evals_without_improvement=state["evals_without_improvement"])
    print(f"epoch {state['epoch']} step {state['step']}: dev WER {100 * result.wer:.1f}% CER {100 * result.cer:.1f}%"
          + ("" if improved else f" (no better for {state['evals_without_improvement']})"))
    if config.patience is not None and state["evals_without_improvement"] >= config.patience:
        state["stopped_early"] = True
        metrics.write(kind="early_stop", step=state["step"], epoch=state["epoch"], best_wer=state["best_wer"],
                      patience=config.patience)
        print(f"early stop: no better dev WER/CER in {config.patience} evaluations (best WER "
              f"{100 * state['best_wer']:.1f}%)")
    plot_metrics(metrics.read(), out / "metrics.png")
