#!/usr/bin/env bash
# The ablations of recipes/default_model/README.md, trained and scored in one go:
#   recipes/default_model/experiments/ablations.sh [train|score]...   (default: train score)
# Run from the repository root after recipes/default_model/run.sh stages 1-5 (data and test sets).
#   normalization   the shipped en-small fine-tuned 3 epochs x 4 h, global against per-utterance
#                   feature normalization (normalization.toml), both arms side by side, a thread each
#   without_neural  the shipped run (config.toml: the release before, 7 epochs x 6 h) without the
#                   natural voices (without_neural.toml); its "with" arm is the shipped en-small
#   microphone      random microphone colouring (augment.eq_db=10): the global arm of normalization.toml
#                   with it (eq_short), and the shipped run, config.toml, with it (eq_full); side by side
# Every training resumes where it stopped. `score` puts every model through the same test sets with
# the greedy decoder and the default decoder (the bundled LM at its default weights): a table per model
# and decoder, in work/default_model/ablations/.
set -euo pipefail
cd "$(dirname "$0")/../../.."
PY=${PYTHON:-.venv/bin/python}
W=work/default_model
E=recipes/default_model/experiments
S2T="$PY -m speech2text"

train() {
  $S2T train $E/normalization.toml out_dir=$W/norm_global > $W/norm_global.log 2>&1 &
  $S2T train $E/normalization.toml out_dir=$W/norm_utterance normalization=utterance > $W/norm_utterance.log 2>&1 &
  wait
  [ -f $W/init.pt ] || git show d48559b:speech2text/pretrained/en-small.pt > $W/init.pt
  $S2T train $E/without_neural.toml > $W/without_neural.log 2>&1
  $S2T train $E/normalization.toml out_dir=$W/eq_short augment.eq_db=10 > $W/eq_short.log 2>&1 &
  $S2T train recipes/default_model/config.toml out_dir=$W/eq_full augment.eq_db=10 threads=1 > $W/eq_full.log 2>&1 &
  wait
}

score() {
  local manifests=()
  for set in neural_heldout_test ljspeech_test fsdd_unseen_speakers fsdd_test; do
    manifests+=(--manifest $W/$set.jsonl)
  done
  mkdir -p $W/ablations
  for model in en-small $W/norm_global/best.pt $W/norm_utterance/best.pt $W/without_neural/best.pt \
      $W/eq_short/best.pt $W/eq_full/best.pt; do
    name=$(basename "$(dirname "$model")"); [ "$model" = en-small ] && name=shipped
    [ "$model" = en-small ] || [ -f "$model" ] || { echo "== $name: not trained yet"; continue; }
    for decoder in greedy lm; do
      $S2T evaluate --model "$model" --runtime torch --decoder $decoder "${manifests[@]}" --worst 0 \
        > $W/ablations/${name}_$decoder.txt 2>/dev/null
      echo "== $name, $decoder"; cat $W/ablations/${name}_$decoder.txt
    done
  done
}

steps=("$@"); [ ${#steps[@]} -gt 0 ] || steps=(train score)
for step in "${steps[@]}"; do
  case $step in train|score) $step ;; *) echo "unknown step $step (train, score)" >&2; exit 2 ;; esac
done
