#!/usr/bin/env bash
# Reproduces the first bundled model from scratch on CPU. It was replaced by recipes/default_model's
# (2026-11-26); stage 8 writes it to work/first_model/export/, not into the package.
# Stages are numbered and resumable: each writes a marker when done, and training resumes
# from its last checkpoint. Usage: recipes/first_model/run.sh [--stage N] [--stop-stage N]
set -euo pipefail
cd "$(dirname "$0")/../.."
source recipes/stages.sh
parse_stages 8 "$@"
no_overrides
PY=${PYTHON:-.venv/bin/python}
W=work/first_model
mkdir -p "$W"

run_stage 1 synthesize $PY recipes/first_model/synthesize.py --out $W/synth
run_stage 2 prepare $PY recipes/first_model/prepare.py --out $W
run_stage 3 pitch-shift $PY recipes/first_model/pitch_shift.py $W/synth/train_only.jsonl --out $W/synth_pitch --fraction 0.4
# Training runs in two phases, as the bundled model was made: 12 epochs from scratch, then 13
# epochs fine-tuning with the pitch-shifted copies added (a fresh warmup and cosine decay).
# LJ Speech is listed twice: the only long-form real speech gets twice the weight.
REAL="--train $W/fsdd_train.jsonl --train $W/ljspeech_train.jsonl --train $W/ljspeech_train.jsonl"
run_stage 4 train $PY -m speech2text train --train $W/synth/train_only.jsonl $REAL \
  --dev $W/synth/dev.jsonl --out $W/run --epochs 12
run_stage 5 fine-tune $PY -m speech2text train --init-from $W/run/best.pt --train $W/synth/train_only.jsonl \
  --train $W/synth_pitch/train.jsonl $REAL --dev $W/synth/dev.jsonl --out $W/run2 --epochs 13 --lr 1.2e-3 --warmup-steps 100
# The word 3-gram LM for --decoder lm: public-domain text plus the training queries, with every
# sentence that overlaps a dev or test utterance left out.
HELD_OUT="--exclude $W/synth/dev.jsonl --exclude $W/synth/test_heldout_voice.jsonl --exclude $W/ljspeech_test.jsonl"
build_lm() {
  $PY recipes/first_model/queries.py > $W/queries.txt
  $PY -m speech2text lm build ../shared/data/text/*.txt $W/queries.txt -o $W/lm.arpa --prune $HELD_OUT
  $PY -m speech2text lm tune --model $W/run2/best.pt --lm $W/lm.arpa --manifest $W/synth/dev.jsonl | tee $W/lm_tune.txt
}
run_stage 6 language-model build_lm
evaluate_all() {
  for set in synth/test_heldout_voice ljspeech_test fsdd_test synth/dev; do
    for decoder in greedy lm; do
      echo "-- $set, $decoder"
      lm=(); if [ $decoder = lm ]; then lm=(--lm $W/lm.arpa); fi
      $PY -m speech2text evaluate --model $W/run2/best.pt --manifest $W/$set.jsonl --worst 3 --decoder $decoder \
        "${lm[@]}" --hypotheses $W/hyp_$(basename $set)_$decoder.jsonl | tee $W/eval_$(basename $set)_$decoder.txt
    done
  done
}
run_stage 7 evaluate evaluate_all
export_model() {
  mkdir -p $W/export
  $PY recipes/default_model/export.py $W/run2/best.pt $W/export/en-small.pt
  gzip -9 -c $W/lm.arpa > $W/export/en-small.arpa.gz
}
run_stage 8 export export_model
