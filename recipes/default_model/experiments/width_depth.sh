#!/usr/bin/env bash
# Width and depth from nothing (width_depth.toml), trained and scored on the three dev parts:
#   recipes/default_model/experiments/width_depth.sh [train|score]...   (default: both)
# Arms by name (layers x hidden): 3x192 (the trainer's first default), 3x256 (the bundled size),
# 4x256 and 3x320 (the two larger sizes within the 0.01 RTF goal, main README's architectures table).
# Two arms train side by side, a thread each; every run resumes where it stopped. `score` gives each
# arm's best checkpoint and its last (the end of the budget) greedy and with the default decoder (the
# bundled LM), and the mean of the three dev parts' WER, the rule the recipe selects by. Both, because
# at this budget the trainer's pick can fail: while every epoch's pooled dev WER is at or above 100%,
# it keeps an early epoch that has learned little.
set -euo pipefail
cd "$(dirname "$0")/../../.."
PY=${PYTHON:-.venv/bin/python}
W=work/default_model
S2T="$PY -m speech2text"
source recipes/default_model/experiments/dev_score.sh
ARMS=(3x192 3x256 4x256 3x320)
EPOCHS=$(awk '/^epochs *=/ {print $3}' recipes/default_model/experiments/width_depth.toml)

train_arm() {
  local layers=${1%x*} hidden=${1#*x}
  $S2T train recipes/default_model/experiments/width_depth.toml out_dir=$W/wd_$1 \
    model.num_layers=$layers model.hidden_size=$hidden > $W/wd_$1.log 2>&1
}

train() {
  for arm in 3x256 3x192 4x256 3x320; do  # two at a time: the next arm starts as soon as one ends
    while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n; done
    train_arm $arm &
  done
  wait
}

score() {
  for arm in "${ARMS[@]}"; do
    [ -f $W/wd_$arm/best.pt ] || { echo "$arm: not trained yet"; continue; }
    # An arm still training is scored too, with the epochs it has behind it.
    local trained=$(awk -F'"epoch": ' '/"kind": "dev"/ {split($2, a, ","); epoch = a[1]} END {print epoch}' \
      $W/wd_$arm/metrics.jsonl)
    for ckpt in best last; do
      for decoder in greedy lm; do
        echo "epoch $trained/$EPOCHS  $(dev_score wd_${arm}_${ckpt}_$decoder $W/wd_$arm/$ckpt.pt --decoder $decoder)"
      done
    done
  done | tee $W/ablations/width_depth.txt
}

steps=("$@"); [ ${#steps[@]} -gt 0 ] || steps=(train score)
for step in "${steps[@]}"; do
  case $step in train|score) $step ;; *) echo "unknown step $step (train, score)" >&2; exit 2 ;; esac
done
