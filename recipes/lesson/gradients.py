"""Stage 3: vanishing and exploding gradients, measured on the recall task.

    python recipes/lesson/gradients.py CONFIG --memory WORK/memory --out WORK/gradients.json

1. By distance: |d loss(last frame) / d input(frame t)| against the distance from the last frame,
   for each cell type at initialization and after training (stage 2's model at `trained_lag`).
2. Per step: the gradient norm while training with plain SGD, with and without clipping, from an init
   whose recurrent weights are `recurrent_gain` times larger (the regime where gradients explode).
"""

from __future__ import annotations

import argparse
import json
import time
import tomllib
from pathlib import Path

import torch
from memory import CELLS, new_model
from recall import RecallTask, Recaller, accuracy, decay_per_frame, gradient_by_distance, train_recall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", type=Path)
    parser.add_argument("--memory", type=Path, required=True, help="stage 2's folder of trained models")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    settings = tomllib.loads(args.config.read_text())
    memory, config, seed = settings["memory"], settings["gradients"], settings["seed"]
    torch.set_num_threads(settings["threads"])
    if config["trained_lag"] not in memory["lags"]:
        raise SystemExit(f"gradients.trained_lag {config['trained_lag']} is not one of memory.lags {memory['lags']}")
    started = time.perf_counter()
    # Sequences longer than the trained lag: how far back the signal reaches, beyond what was trained.
    long_task = RecallTask(memory["tokens"], config["frames"] - 1)
    trained_task = RecallTask(memory["tokens"], config["trained_lag"])
    clip_task = RecallTask(memory["tokens"], config["clip_lag"])
    results = {}
    for cell in CELLS:
        model = new_model(cell, long_task, memory, seed)
        at_init = gradient_by_distance(model, long_task, config["sequences"], seed)
        model.load_state_dict(torch.load(args.memory / f"{cell}_lag{config['trained_lag']}.pt", weights_only=True))
        trained = gradient_by_distance(model, long_task, config["sequences"], seed)
        clipping = {}
        for name, clip_norm in (("unclipped", None), ("clipped", config["clip_norm"])):
            torch.manual_seed(seed)
            model = Recaller(cell, clip_task.input_size, memory["hidden_size"], clip_task.tokens,
                             memory["remember_bias"], config["recurrent_gain"])
            # Plain SGD, not Adam: Adam divides each step by a running gradient scale, which hides an
            # exploding gradient; with SGD the step is the gradient, as in Pascanu et al. (2013).
            optimizer = torch.optim.SGD(model.parameters(), lr=config["clip_lr"])
            history = train_recall(model, clip_task, config["clip_steps"], memory["batch_size"], optimizer, clip_norm,
                                   seed=seed + clip_task.lag, desc=f"{cell} {name}")
            clipping[name] = history | {"accuracy": accuracy(model, clip_task, memory["test_sequences"], seed - 1)}
        results[cell] = {
            "at_init": at_init, "trained": trained,
            "decay_per_frame": {"at_init": decay_per_frame(at_init), "trained": decay_per_frame(trained)},
            "clipping": clipping,
        }
        print(f"{cell:4s}: gradient x{results[cell]['decay_per_frame']['at_init']:.3f} per frame back at init, "
              f"x{results[cell]['decay_per_frame']['trained']:.3f} after training; SGD from gain "
              f"{config['recurrent_gain']}: max gradient norm {max(clipping['unclipped']['grad_norm']):.3g} unclipped, "
              f"recall {clipping['unclipped']['accuracy']:.2f} unclipped vs {clipping['clipped']['accuracy']:.2f} clipped",
              flush=True)
    args.out.write_text(json.dumps({"frames": config["frames"], "trained_lag": config["trained_lag"],
                                    "clip_lag": config["clip_lag"], "recurrent_gain": config["recurrent_gain"],
                                    "clip_norm": config["clip_norm"], "cells": results,
                                    "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
