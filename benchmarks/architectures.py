"""What each candidate architecture costs on this CPU: size, training speed and decoding speed, side by side.

For every config: parameters, float16 file size, training throughput (forward + CTC +
backward + AdamW on ready features, LJ Speech batch shapes of 160 padded seconds; the
trainer runs at this bound, see train_throughput.py) and the greedy real-time factor
of the acoustic model on 60 s of audio (the part of decoding that grows with the model).

    .venv/bin/python benchmarks/architectures.py [--steps 6] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from speech2text.model import AcousticModel, ModelConfig  # noqa: E402
from train_throughput import lj_manifest, model_bound  # noqa: E402

CANDIDATES = {
    "3 x 192, stride 3 (first en-small; the trainer default)": ModelConfig(hidden_size=192, num_layers=3),
    "3 x 256, stride 3 (bundled en-small)": ModelConfig(hidden_size=256, num_layers=3),
    "3 x 256, stride 2": ModelConfig(hidden_size=256, num_layers=3, subsampling=2),
    "3 x 256, stride 4": ModelConfig(hidden_size=256, num_layers=3, subsampling=4),
    "4 x 256, stride 3": ModelConfig(hidden_size=256, num_layers=4),
    "3 x 320, stride 3": ModelConfig(hidden_size=320, num_layers=3),
    "4 x 320, stride 3 (EESEN's size)": ModelConfig(hidden_size=320, num_layers=4),
}


def greedy_rtf(config: ModelConfig, seconds: float = 60.0, repeats: int = 3) -> float:
    model = AcousticModel(config).eval()
    features = torch.randn(1, int(seconds * 100), config.n_mels)
    lengths = torch.tensor([features.shape[1]])
    with torch.inference_mode():
        model(features, lengths)  # warm-up
        started = time.perf_counter()
        for _ in range(repeats):
            log_probs, _ = model(features, lengths)
            log_probs.argmax(-1)
    return (time.perf_counter() - started) / repeats / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        rows = lj_manifest(Path(folder) / "lj.jsonl")
        for name, config in CANDIDATES.items():
            params = sum(p.numel() for p in AcousticModel(config).parameters())
            bound_s, audio_s = model_bound(rows, args.steps, args.threads, config)
            results[name] = {"parameters": params, "float16_mb": 2 * params / 1e6,
                             "train_audio_s_per_s": audio_s / bound_s, "greedy_rtf": greedy_rtf(config)}
    print(f"{args.threads} threads, CPU, {args.steps} training steps each\n")
    print("| architecture | parameters | float16 MB | training, audio s per s | acoustic model RTF, 60 s |")
    print("|---|---:|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['parameters'] / 1e6:.2f} M | {r['float16_mb']:.1f} | {r['train_audio_s_per_s']:.0f} | "
              f"{r['greedy_rtf']:.4f} |")
    out = ROOT / "benchmarks" / "results" / "architectures.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"threads": args.threads, "results": results}, indent=2))


if __name__ == "__main__":
    main()
