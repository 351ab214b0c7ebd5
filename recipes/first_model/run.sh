#!/usr/bin/env bash
# Reproduces the first bundled model (speech2text/pretrained/en-small.pt) from scratch on CPU.
# Stages are numbered and resumable: each writes a marker when done, and training resumes
# from its last checkpoint. Usage: recipes/first_model/run.sh [--stage N] [--stop-stage N]
set -euo pipefail
cd "$(dirname "$0")/../.."
stage=1; stop_stage=5
while [ $# -gt 0 ]; do
  case "$1" in
    --stage) stage=$2; shift 2 ;;
    --stop-stage) stop_stage=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
PY=${PYTHON:-.venv/bin/python}
W=work/first_model
mkdir -p "$W"
run_stage() {  # run_stage N NAME COMMAND...
  local n=$1 name=$2; shift 2
  if [ "$n" -lt "$stage" ] || [ "$n" -gt "$stop_stage" ]; then return; fi
  if [ -f "$W/.done.$n" ]; then echo "stage $n ($name): done before"; return; fi
  echo "== stage $n: $name"
  "$@"
  touch "$W/.done.$n"
}

run_stage 1 synthesize $PY recipes/first_model/synthesize.py --out $W/synth
run_stage 2 prepare $PY recipes/first_model/prepare.py --out $W
# LJ Speech is listed twice: the only long-form real speech gets twice the weight.
run_stage 3 train $PY -m speech2text train --train $W/synth/train_only.jsonl --train $W/fsdd_train.jsonl \
  --train $W/ljspeech_train.jsonl --train $W/ljspeech_train.jsonl --dev $W/synth/dev.jsonl --out $W/run --epochs 12
evaluate_all() {
  for set in synth/test_heldout_voice ljspeech_test fsdd_test synth/dev; do
    echo "-- $set"
    $PY -m speech2text evaluate --model $W/run/best.pt --manifest $W/$set.jsonl --worst 3 \
      --hypotheses $W/hyp_$(basename $set).jsonl | tee $W/eval_$(basename $set).txt
  done
}
run_stage 4 evaluate evaluate_all
run_stage 5 export $PY recipes/first_model/export.py $W/run/best.pt speech2text/pretrained/en-small.pt
