"""Stage 2: sequential memory. Each cell type learns the recall task at every lag; accuracy per lag.

    python recipes/lesson/memory.py CONFIG --out WORK/memory

Every cell type gets the same hidden size, the same batches (one seed per lag), the same steps and
the same optimizer. Writes OUT/{cell}_lag{lag}.json (accuracy, losses, seconds) and .pt (the trained
weights, which stage 3 measures); a (cell, lag) already written is skipped, so the stage resumes.
"""

from __future__ import annotations

import json
import time

import torch
from recall import Recaller, RecallTask, accuracy, train_recall
from settings import CELLS, stage_command_line


def new_model(cell: str, task: RecallTask, config: dict, seed: int) -> Recaller:
    """The cell type's model at initialization: the same seed gives the same weights at every lag."""
    torch.manual_seed(seed)
    return Recaller(cell, task.input_size, config["hidden_size"], task.tokens, config["remember_bias"])


def main() -> None:
    settings, args = stage_command_line(__doc__, {"out": "the folder of {cell}_lag{lag}.json and .pt"})
    config, seed = settings["memory"], settings["seed"]
    torch.set_num_threads(settings["threads"])
    args.out.mkdir(parents=True, exist_ok=True)
    for lag in config["lags"]:
        task = RecallTask(config["tokens"], lag)
        for cell in CELLS:
            result_path = args.out / f"{cell}_lag{lag}.json"
            if result_path.exists():
                continue
            started = time.perf_counter()
            model = new_model(cell, task, config, seed)
            optimizer = torch.optim.Adam(model.parameters(), lr=config["lr"])
            history = train_recall(model, task, config["steps"], config["batch_size"], optimizer, config["clip_norm"],
                                   seed=seed + lag, desc=f"{cell} lag {lag}")
            # Held-out sequences: a seed no training batch of any lag is drawn from.
            result = {"cell": cell, "lag": lag, "accuracy": accuracy(model, task, config["test_sequences"], seed - 1),
                      "chance": 1 / task.tokens, "loss": history["loss"], "steps": config["steps"],
                      "seconds": time.perf_counter() - started}
            torch.save(model.state_dict(), args.out / f"{cell}_lag{lag}.pt")
            result_path.write_text(json.dumps(result))
            print(f"{cell:4s} lag {lag:3d}: recall accuracy {result['accuracy']:.3f} (chance {result['chance']:.3f}), "
                  f"{result['seconds']:.0f} s", flush=True)


if __name__ == "__main__":
    main()
