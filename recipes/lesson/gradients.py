"""Stage 3: vanishing and exploding gradients, measured on the recall task.

    python recipes/lesson/gradients.py CONFIG --memory WORK/memory --out WORK/gradients.json

1. By distance: |d loss(last frame) / d input(frame t)| against the distance from the last frame,
   for each cell type at initialization and after training (stage 2's model at `trained_lag`).
2. Per step: the gradient norm while training with plain SGD, with and without clipping, from an init
   whose recurrent weights are `recurrent_gain` times larger (the regime where gradients explode);
   the gradient by distance at that init says whether it grows with distance there.
"""

from __future__ import annotations

import json
import time

import torch
from memory import new_model
from recall import Recaller, RecallTask, accuracy, decay_per_frame, gradient_by_distance, train_recall
from settings import CELLS, stage_command_line


def main() -> None:
    settings, args = stage_command_line(__doc__, {"memory": "stage 2's folder of trained models",
                                                  "out": "the JSON file to write"})
    memory, config, seed = settings["memory"], settings["gradients"], settings["seed"]
    torch.set_num_threads(settings["threads"])
    started = time.perf_counter()
    # Sequences longer than the trained lag: how far back the signal reaches, beyond what was trained.
    long_task = RecallTask(memory["tokens"], config["frames"] - 1)
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
            if name == "unclipped":  # the same init for both: is it a regime where the gradient grows with distance?
                at_gain = gradient_by_distance(model, clip_task, config["sequences"], seed)
            optimizer = torch.optim.SGD(model.parameters(), lr=config["clip_lr"])
            history = train_recall(model, clip_task, config["clip_steps"], memory["batch_size"], optimizer, clip_norm,
                                   seed=seed + clip_task.lag, desc=f"{cell} {name}")
            clipping[name] = history | {"accuracy": accuracy(model, clip_task, memory["test_sequences"], seed - 1)}
        results[cell] = {
            "at_init": at_init, "trained": trained,
            "decay_per_frame": {"at_init": decay_per_frame(at_init), "trained": decay_per_frame(trained),
                                "at_recurrent_gain": decay_per_frame(at_gain)},
            "clipping": clipping,
        }
        print(f"{cell:4s}: gradient x{results[cell]['decay_per_frame']['at_init']:.3f} per frame back at init, "
              f"x{results[cell]['decay_per_frame']['trained']:.3f} after training; SGD from gain "
              f"{config['recurrent_gain']} (gradient x{results[cell]['decay_per_frame']['at_recurrent_gain']:.3f} per frame back): "
              f"max gradient norm {max(clipping['unclipped']['grad_norm']):.3g} unclipped, "
              f"recall {clipping['unclipped']['accuracy']:.2f} unclipped vs {clipping['clipped']['accuracy']:.2f} clipped",
              flush=True)
    args.out.write_text(json.dumps({"frames": config["frames"], "trained_lag": config["trained_lag"],
                                    "clip_lag": config["clip_lag"], "recurrent_gain": config["recurrent_gain"],
                                    "clip_norm": config["clip_norm"], "cells": results,
                                    "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
