"""Stage 5: results.json, the figures and a Markdown table of the numbers, from stages 2-4.

    python recipes/lesson/report.py CONFIG --work WORK

Writes WORK/results.json ({"cells": {cell: {"dev_cer", "memory": {lag: accuracy}, ...}}}),
WORK/figures/{memory,memory_training,gradient_distance,clipping,speech}.png and WORK/results.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
from settings import CELLS, stage_command_line

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402

COLORS = {"rnn": "tab:red", "gru": "tab:green", "lstm": "tab:blue"}
DPI = 80  # the figures are committed: small files
LEARNED_LOSS = 0.1  # a recall run has learned its lag once its loss, averaged over LOSS_WINDOW steps, is below this
LOSS_WINDOW = 50


def moving_average(values: list[float], window: int) -> list[float]:
    """The mean of each `window` consecutive values: element i covers values[i : i + window]."""
    sums = [0.0]
    for value in values:
        sums.append(sums[-1] + value)
    return [(sums[i + window] - sums[i]) / window for i in range(len(values) - window + 1)]


def steps_to_learn(losses: list[float]) -> int | None:
    """The number of training steps after which the mean loss of the last LOSS_WINDOW steps first fell below
    LEARNED_LOSS; None if it never did."""
    for start, mean in enumerate(moving_average(losses, LOSS_WINDOW)):
        if mean < LEARNED_LOSS:
            return start + LOSS_WINDOW
    return None


def collect(work: Path, lags: list[int]) -> dict:
    gradients = json.loads((work / "gradients.json").read_text())
    cells = {}
    for cell in CELLS:
        runs = {lag: json.loads((work / "memory" / f"{cell}_lag{lag}.json").read_text()) for lag in lags}
        records = [json.loads(line) for line in (work / "speech" / cell / "metrics.jsonl").read_text().splitlines()]
        dev = [r for r in records if r["kind"] == "dev"]
        train = [r for r in records if r["kind"] == "train"]
        measured = gradients["cells"][cell]
        cells[cell] = {
            "dev_cer": dev[-1]["cer"], "best_dev_cer": min(r["cer"] for r in dev),
            "dev_curve": [{"step": r["step"], "epoch": r["epoch"], "cer": r["cer"], "wer": r["wer"]} for r in dev],
            "train_loss": [{"step": r["step"], "loss": r["loss"]} for r in train],
            "memory": {str(lag): runs[lag]["accuracy"] for lag in lags},
            "memory_chance": runs[lags[0]]["chance"],
            "memory_steps_to_learn": {str(lag): steps_to_learn(runs[lag]["loss"]) for lag in lags},
            "gradient_decay_per_frame": measured["decay_per_frame"],
            "gradient_by_distance": {"at_init": measured["at_init"], "trained": measured["trained"]},
            "clipping": {name: {"max_grad_norm": max(run["grad_norm"]), "final_loss": run["loss"][-1],
                                "accuracy": run["accuracy"]} for name, run in measured["clipping"].items()},
        }
    seconds = {"memory": sum(json.loads(p.read_text())["seconds"] for p in (work / "memory").glob("*.json")),
               "gradients": gradients["seconds"]}
    return {"cells": cells, "gradients": {k: v for k, v in gradients.items() if k not in ("cells", "seconds")},
            "seconds": seconds}


def plot_memory(results: dict, lags: list[int], path: Path) -> None:
    figure, axis = plt.subplots(figsize=(6, 4))
    for cell in CELLS:
        axis.plot(lags, [100 * results["cells"][cell]["memory"][str(lag)] for lag in lags], "o-", color=COLORS[cell],
                  label=cell)
    axis.axhline(100 * results["cells"]["rnn"]["memory_chance"], color="grey", linestyle=":", label="chance")
    axis.set(xlabel="lag (frames between the token and the question)", ylabel="recall accuracy (%)",
             title="Sequential memory: recall a token after a lag", ylim=(0, 105))
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    plt.close(figure)


def plot_memory_training(work: Path, lags: list[int], path: Path) -> None:
    figure, axes = plt.subplots(1, len(CELLS), figsize=(12, 3.6), sharey=True)
    shades = plt.get_cmap("viridis")
    for axis, cell in zip(axes, CELLS):
        for index, lag in enumerate(lags):
            losses = json.loads((work / "memory" / f"{cell}_lag{lag}.json").read_text())["loss"]
            smooth = moving_average(losses, LOSS_WINDOW)
            axis.semilogy(range(LOSS_WINDOW, len(losses) + 1), smooth, color=shades(index / max(1, len(lags) - 1)),
                          linewidth=1.2, label=f"lag {lag}")
        axis.axhline(LEARNED_LOSS, color="grey", linestyle=":", linewidth=1)
        axis.set(xlabel="Adam step", title=cell)
    axes[0].set_ylabel(f"training loss (mean of {LOSS_WINDOW} steps)")
    axes[-1].legend(fontsize=8)
    figure.suptitle("Learning to remember: the plateau before each lag is learned")
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    plt.close(figure)


def plot_gradient_distance(work: Path, results: dict, path: Path) -> None:
    gradients = json.loads((work / "gradients.json").read_text())["cells"]
    figure, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for axis, when, title in zip(axes, ("at_init", "trained"),
                                 ("at initialization", f"after training (lag {results['gradients']['trained_lag']})")):
        for cell in CELLS:
            norms = gradients[cell][when]
            axis.semilogy(range(1, len(norms)), norms[1:], color=COLORS[cell],
                          label=f"{cell} (x{gradients[cell]['decay_per_frame'][when]:.2f} per frame)")
        axis.set(xlabel="distance from the last frame (frames)", title=title)
        axis.legend(fontsize=8)
    axes[0].set_ylabel("|d loss(last frame) / d input(frame)|")
    figure.suptitle("Vanishing gradients: how much the input t frames back moves the answer")
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    plt.close(figure)


def plot_clipping(work: Path, results: dict, path: Path) -> None:
    gradients = json.loads((work / "gradients.json").read_text())["cells"]
    figure, (norm_axis, loss_axis) = plt.subplots(1, 2, figsize=(10, 4))
    for cell in CELLS:
        for name, style in (("unclipped", "-"), ("clipped", "--")):
            run = gradients[cell]["clipping"][name]
            norm_axis.semilogy(run["grad_norm"], style, color=COLORS[cell], linewidth=1, label=f"{cell} {name}")
            loss_axis.plot(run["loss"], style, color=COLORS[cell], linewidth=1, label=f"{cell} {name}")
    norm_axis.axhline(results["gradients"]["clip_norm"], color="grey", linestyle=":", label="clip norm")
    norm_axis.set(xlabel="SGD step", ylabel="gradient norm before clipping",
                  title=f"recurrent weights x{results['gradients']['recurrent_gain']:g} at init")
    loss_axis.set(xlabel="SGD step", ylabel="training loss", yscale="log",
                  title=f"recall at lag {results['gradients']['clip_lag']}")
    norm_axis.legend(fontsize=7, ncol=2)
    figure.suptitle("Exploding gradients and gradient clipping")
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    plt.close(figure)


def plot_speech(results: dict, path: Path) -> None:
    figure, (loss_axis, cer_axis) = plt.subplots(1, 2, figsize=(10, 4))
    for cell in CELLS:
        measured = results["cells"][cell]
        loss_axis.plot([r["step"] for r in measured["train_loss"]], [r["loss"] for r in measured["train_loss"]],
                       color=COLORS[cell], linewidth=1, label=cell)
        cer_axis.plot([r["step"] for r in measured["dev_curve"]], [100 * r["cer"] for r in measured["dev_curve"]], "o-",
                      color=COLORS[cell], label=f"{cell} ({100 * measured['dev_cer']:.1f}% at the end)")
    loss_axis.set(xlabel="step", ylabel="CTC loss", yscale="log", title="FSDD training loss")
    cer_axis.set(xlabel="step", ylabel="dev CER (%)", title="FSDD dev CER (greedy)")
    loss_axis.legend()
    cer_axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    plt.close(figure)


def table(results: dict, lags: list[int]) -> str:
    cells = results["cells"]
    lines = ["| | " + " | ".join(CELLS) + " |", "|---|" + "---:|" * len(CELLS)]
    for lag in lags:
        lines.append(f"| recall accuracy, lag {lag} | " + " | ".join(f"{100 * cells[c]['memory'][str(lag)]:.1f}%"
                                                                      for c in CELLS) + " |")
    for lag in lags:
        steps = [cells[c]["memory_steps_to_learn"][str(lag)] for c in CELLS]
        lines.append(f"| Adam steps to learn lag {lag} (loss < {LEARNED_LOSS:g}) | "
                     + " | ".join("never" if s is None else str(s) for s in steps) + " |")
    for when, label in (("at_init", "at init"), ("trained", "after training"),
                        ("at_recurrent_gain", f"at init x{results['gradients']['recurrent_gain']:g} (SGD runs)")):
        lines.append(f"| gradient per frame back, {label} | " + " | ".join(
            f"x{cells[c]['gradient_decay_per_frame'][when]:.3f}" for c in CELLS) + " |")
    for name in ("unclipped", "clipped"):
        lines.append(f"| SGD {name}: max gradient norm / recall accuracy | " + " | ".join(
            f"{cells[c]['clipping'][name]['max_grad_norm']:.3g} / {100 * cells[c]['clipping'][name]['accuracy']:.0f}%"
            for c in CELLS) + " |")
    lines.append("| FSDD dev CER, last epoch | " + " | ".join(f"{100 * cells[c]['dev_cer']:.1f}%" for c in CELLS) + " |")
    lines.append("| FSDD dev CER, best epoch | " + " | ".join(f"{100 * cells[c]['best_dev_cer']:.1f}%" for c in CELLS)
                 + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    settings, args = stage_command_line(__doc__, {"work": "run.sh's WORK folder (stages 2-4 done)"})
    lags = settings["memory"]["lags"]
    results = collect(args.work, lags)
    figures = args.work / "figures"
    figures.mkdir(exist_ok=True)
    plot_memory(results, lags, figures / "memory.png")
    plot_memory_training(args.work, lags, figures / "memory_training.png")
    plot_gradient_distance(args.work, results, figures / "gradient_distance.png")
    plot_clipping(args.work, results, figures / "clipping.png")
    plot_speech(results, figures / "speech.png")
    (args.work / "results.json").write_text(json.dumps(results, indent=1))
    (args.work / "results.md").write_text(table(results, lags))
    print(table(results, lags))


if __name__ == "__main__":
    main()
