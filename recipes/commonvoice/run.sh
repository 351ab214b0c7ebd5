#!/usr/bin/env bash
# Common Voice (English, or any language folder of a release): train.tsv / dev.tsv / test.tsv + clips/*.mp3.
# Stages are numbered and resumable: each writes a marker when done, and training resumes from its
# last checkpoint. Usage: recipes/commonvoice/run.sh [--stage N] [--stop-stage N] [KEY=VALUE config overrides]
#   COMMONVOICE=/data/cv-corpus-17.0-2024-03-15/en recipes/commonvoice/run.sh
# Several GPUs: TORCHRUN="torchrun --nproc_per_node=8" recipes/commonvoice/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source recipes/stages.sh
parse_stages 4 "$@"
PY=${PYTHON:-.venv/bin/python}
COMMONVOICE=${COMMONVOICE:-/data/commonvoice/en}
DECODER=${DECODER:-greedy} # lm: the bundled English 3-gram LM
TRAIN=${TORCHRUN:-$PY}
W=${WORK:-work/commonvoice}
mkdir -p "$W"

run_stage 1 prepare $PY -m speech2text prepare commonvoice "$COMMONVOICE" --out $W/data
run_stage 2 train $TRAIN -m speech2text train recipes/commonvoice/config.toml train_manifests=$W/data/train.jsonl \
  dev_manifest=$W/data/dev.jsonl out_dir=$W/run "${overrides[@]}"
run_stage 3 evaluate $PY -m speech2text evaluate --model $W/run/best.pt --manifest $W/data/dev.jsonl \
  --manifest $W/data/test.jsonl --decoder $DECODER --worst 5 --hypotheses $W/hyp_$DECODER.jsonl \
  | tee $W/eval_$DECODER.txt
run_stage 4 export $PY -m speech2text export $W/model.torchscript.pt --format torchscript --model $W/run/best.pt
