#!/usr/bin/env bash
# Free Spoken Digit Dataset: a digit recognizer from scratch on CPU, scored on the dataset's own test split.
# Stages are numbered and resumable: each writes a marker when done, and training resumes from its
# last checkpoint. Usage: recipes/fsdd/run.sh [--stage N] [--stop-stage N] [KEY=VALUE config overrides]
#   FSDD=/path/to/free-spoken-digit-dataset recipes/fsdd/run.sh      (default: ../shared/data/fsdd)
set -euo pipefail
cd "$(dirname "$0")/../.."
source recipes/stages.sh
parse_stages 4 "$@"
PY=${PYTHON:-.venv/bin/python}
FSDD=${FSDD:-../shared/data/fsdd}
W=${WORK:-work/fsdd}
mkdir -p "$W"

# train (indices 10-49 of every speaker), dev (5-9) and test (0-4, the dataset's own test split)
run_stage 1 prepare $PY -m speech2text prepare fsdd "$FSDD" --out $W/data
run_stage 2 train $PY -m speech2text train recipes/fsdd/config.toml train_manifests=$W/data/train.jsonl \
  dev_manifest=$W/data/dev.jsonl out_dir=$W/run "${overrides[@]}"
# "exact" is the digit accuracy. Greedy decoding spells freely ("thee"); with the closed vocabulary
# of recipes/fsdd/digits.txt the LM beam search can only answer with a digit word.
evaluate() {
  $PY -m speech2text evaluate --model $W/run/best.pt --manifest $W/data/test.jsonl --decoder greedy --worst 5 \
    --hypotheses $W/hyp_test_greedy.jsonl | tee $W/eval_test_greedy.txt
  $PY -m speech2text evaluate --model $W/run/best.pt --manifest $W/data/test.jsonl --words recipes/fsdd/digits.txt \
    --worst 5 --hypotheses $W/hyp_test_digits.jsonl | tee $W/eval_test_digits.txt
}
run_stage 3 evaluate evaluate
run_stage 4 export $PY -m speech2text export $W/digits.torchscript.pt --format torchscript --model $W/run/best.pt
