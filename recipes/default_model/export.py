"""Export a trained checkpoint as the bundled model: float16 weights, no optimizer state.

    python recipes/default_model/export.py work/default_model/run/best.pt speech2text/pretrained/en-small.pt
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from speech2text.checkpoint import Checkpoint, load_checkpoint, save_checkpoint  # noqa: E402
from speech2text.manifest import read_manifest  # noqa: E402
from speech2text.train import training_hours  # noqa: E402


def train_configs(metadata: dict) -> list[dict]:
    """A run's training config, or (average.py's output) every ingredient's, through means of means."""
    if "train_config" in metadata:
        return [metadata["train_config"]]
    return [config for run in metadata.get("averaged_from", []) for config in train_configs(run)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("output", type=Path)
    args = parser.parse_args()
    trained = load_checkpoint(args.checkpoint)
    configs = train_configs(trained.metadata)
    manifests = dict.fromkeys(m for config in configs for m in config["train_manifests"])
    rows = {manifest: read_manifest(manifest) for manifest in manifests}
    metadata = {
        **trained.metadata,
        "name": args.output.stem,
        "weights": "float16",
        "train_hours": training_hours([row for manifest_rows in rows.values() for row in manifest_rows]),
        "train_hours_per_manifest": {m: training_hours(r) for m, r in rows.items()},
    }
    if "train_config" in metadata:
        # the architecture itself: trainers before 2026-11-26 recorded the default config when fine-tuning
        metadata["train_config"] = {**metadata["train_config"], "model": asdict(trained.model.config)}
    save_checkpoint(args.output, Checkpoint(trained.model, trained.feature_config, trained.vocabulary, metadata), half=True)
    params = sum(p.numel() for p in trained.model.parameters())
    print(f"{args.output}: {params / 1e6:.2f} M parameters, {args.output.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
