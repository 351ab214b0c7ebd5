"""Self-describing checkpoints: configs, vocabulary, weights and training metadata in one file.

Files are read with torch.load(weights_only=True), so a checkpoint can hold
only tensors and plain containers and can never run code. Writes go to a
temporary file that is renamed into place, so a kill mid-write never leaves a
half-written checkpoint.
"""

from __future__ import annotations

import os
import pickle
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .errors import CheckpointError
from .features import FeatureConfig
from .files import atomic_path
from .model import AcousticModel, ModelConfig
from .text import Vocabulary

FORMAT = "speech2text-checkpoint"
FORMAT_VERSION = 1


@dataclass
class Checkpoint:
    model: AcousticModel
    feature_config: FeatureConfig
    vocabulary: Vocabulary
    metadata: dict = field(default_factory=dict)
    trainer_state: dict | None = None


def atomic_torch_save(obj, path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        torch.save(obj, f)
        f.flush()
        os.fsync(f.fileno())


def save_checkpoint(path: str | Path, checkpoint: Checkpoint, half: bool = False) -> None:
    """Write `checkpoint`; with half=True the float weights are stored as float16 (half the size)."""
    state = {k: (v.half() if half and v.is_floating_point() else v) for k, v in checkpoint.model.state_dict().items()}
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model_config": checkpoint.model.config.to_dict(),
        "feature_config": checkpoint.feature_config.to_dict(),
        "vocabulary": list(checkpoint.vocabulary.symbols),
        "state_dict": state,
        "metadata": checkpoint.metadata,
    }
    if checkpoint.trainer_state is not None:
        payload["trainer_state"] = checkpoint.trainer_state
    atomic_torch_save(payload, path)


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint written by save_checkpoint; raises CheckpointError with a one-line reason."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such model file")
    # torch.save has written zip archives since torch 1.6; anything else is not ours.
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"{path}: not a readable checkpoint (not a torch zip archive)")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        reason = re.search(r"Unsupported global: GLOBAL (\S+)", str(error))
        what = f"it references {reason.group(1)}" if reason else "unsafe content"
        raise CheckpointError(f"{path}: refused to load, the file holds more than weights ({what})") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as error:
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(error).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a speech2text checkpoint")
    if payload.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format {payload['format_version']} is newer than this speech2text reads ({FORMAT_VERSION}); upgrade"
        )
    try:
        model = AcousticModel(ModelConfig(**payload["model_config"]))
        state = {k: (v.float() if v.is_floating_point() else v) for k, v in payload["state_dict"].items()}
        model.load_state_dict(state)
        # A checkpoint saved before speech level normalization existed was trained without it.
        feature_config = FeatureConfig(**{"level_db": None, **payload["feature_config"]})
        vocabulary = Vocabulary(tuple(payload["vocabulary"]))
    except (KeyError, TypeError, RuntimeError, ValueError) as error:
        raise CheckpointError(f"{path}: damaged checkpoint ({type(error).__name__}: {str(error).splitlines()[0][:120]})") from None
    model.eval()
    return Checkpoint(model, feature_config, vocabulary, payload.get("metadata", {}), payload.get("trainer_state"))


def average_checkpoints(checkpoints: list[Checkpoint], names: list[str]) -> Checkpoint:
    """One model whose every weight is the mean of `checkpoints`' (a uniform "model soup": Wortsman et
    al. 2022, "Model soups: averaging weights of multiple fine-tuned models improves accuracy without
    increasing inference time").

    Averaging only makes sense for models fine-tuned from one starting point, so they must share the
    architecture, frontend, alphabet and normalization statistics; anything else raises CheckpointError.
    The result keeps the metadata that every run shares (the lineage they start from, say) and records
    each run, by its name in `names`, with the rest of its own (its step, its training config ...) in
    metadata["averaged_from"].
    torch.optim.swa_utils averages the states of one model during one training; these are finished runs.
    """
    if len(checkpoints) < 2 or len(names) != len(checkpoints):
        raise CheckpointError("averaging needs two or more checkpoints, each with its name")
    first, states = checkpoints[0], [c.model.state_dict() for c in checkpoints]
    for name, checkpoint, state in zip(names[1:], checkpoints[1:], states[1:]):
        differs = [what for what, same in (
            ("architecture", checkpoint.model.config == first.model.config),
            ("frontend", checkpoint.feature_config == first.feature_config),
            ("alphabet", checkpoint.vocabulary.symbols == first.vocabulary.symbols),
            ("normalization statistics",
             all(torch.equal(state[k], states[0][k]) for k in state if k.startswith("normalizer."))),
        ) if not same]
        if differs:
            raise CheckpointError(f"{name}: cannot be averaged with {names[0]}: its {differs[0]} differs")
    model = AcousticModel(first.model.config)
    model.load_state_dict({k: torch.stack([s[k] for s in states]).mean(0) if v.is_floating_point() else v
                           for k, v in states[0].items()})
    model.eval()
    shared = {key: value for key, value in first.metadata.items()
              if key != "averaged_from" and all(c.metadata.get(key) == value for c in checkpoints[1:])}
    ingredients = [{"path": name, **{k: v for k, v in c.metadata.items() if k not in shared}}
                   for name, c in zip(names, checkpoints)]
    return Checkpoint(model, first.feature_config, first.vocabulary, {**shared, "averaged_from": ingredients})
