#!/usr/bin/env bash
# LibriSpeech: train on the train-* subsets present, pick the best epoch on dev-clean, score dev/test clean/other.
# Stages are numbered and resumable: each writes a marker when done, and training resumes from its
# last checkpoint. Usage: recipes/librispeech/run.sh [--stage N] [--stop-stage N] [KEY=VALUE config overrides]
#   LIBRISPEECH=/data/LibriSpeech SUBSETS=train-clean-100,dev-clean,test-clean,test-other recipes/librispeech/run.sh
# Several GPUs: TORCHRUN="torchrun --nproc_per_node=8" recipes/librispeech/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source recipes/stages.sh
parse_stages 4 "$@"
PY=${PYTHON:-.venv/bin/python}
LIBRISPEECH=${LIBRISPEECH:-/data/LibriSpeech}
SUBSETS=${SUBSETS:-}       # empty: every subset found under $LIBRISPEECH
DECODER=${DECODER:-greedy} # lm: the bundled English 3-gram LM
TRAIN=${TORCHRUN:-$PY}     # torchrun ... runs `-m speech2text` on every GPU
W=${WORK:-work/librispeech}
mkdir -p "$W"

run_stage 1 prepare $PY -m speech2text prepare librispeech "$LIBRISPEECH" --out $W/data ${SUBSETS:+--subsets $SUBSETS}
train() {
  local manifests
  manifests=$(printf '"%s",' $W/data/train-*.jsonl)
  $TRAIN -m speech2text train recipes/librispeech/config.toml "train_manifests=[${manifests%,}]" \
    dev_manifest=$W/data/dev-clean.jsonl out_dir=$W/run "${overrides[@]}"
}
run_stage 2 train train
evaluate() {
  local sets=()
  for set in dev-clean dev-other test-clean test-other; do
    if [ -f $W/data/$set.jsonl ]; then sets+=(--manifest $W/data/$set.jsonl); fi
  done
  $PY -m speech2text evaluate --model $W/run/best.pt "${sets[@]}" --decoder $DECODER --worst 5 \
    --hypotheses $W/hyp_$DECODER.jsonl | tee $W/eval_$DECODER.txt
}
run_stage 3 evaluate evaluate
run_stage 4 export $PY -m speech2text export $W/model.torchscript.pt --format torchscript --model $W/run/best.pt
