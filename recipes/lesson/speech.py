"""Stage 4: the three cell types on real speech (FSDD digits), with the same budget.

    python recipes/lesson/speech.py CONFIG --data WORK/fsdd --out WORK/speech

The library's trainer (speech2text.train) trains the library's acoustic model once per cell type:
the [speech] table of CONFIG is the TrainConfig of every run, only model.rnn_type differs. Each
run writes OUT/{cell}/ (metrics.jsonl with the dev CER after every epoch, best.pt) and resumes
from its last.pt when run again.
"""

from __future__ import annotations

from settings import CELLS, stage_command_line

from speech2text.train import TrainConfig, train


def main() -> None:
    settings, args = stage_command_line(__doc__, {"data": "the folder of `speech2text prepare fsdd`",
                                                  "out": "the folder of one training run per cell type"})
    common = settings["speech"]
    for cell in CELLS:
        print(f"== {cell}", flush=True)
        config = TrainConfig.from_dict(common | {
            "train_manifests": [str(args.data / "train.jsonl")], "dev_manifest": str(args.data / "dev.jsonl"),
            "out_dir": str(args.out / cell), "model": common.get("model", {}) | {"rnn_type": cell},
            "seed": settings["seed"], "threads": settings["threads"]})
        train(config)


if __name__ == "__main__":
    main()
