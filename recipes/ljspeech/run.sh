#!/usr/bin/env bash
# LJ Speech 1.1 (one reader): metadata.csv + wavs/. Held out by a hash of the utterance id: ~5% test, ~5% dev.
# Stages are numbered and resumable: each writes a marker when done, and training resumes from its
# last checkpoint. Usage: recipes/ljspeech/run.sh [--stage N] [--stop-stage N] [KEY=VALUE config overrides]
#   LJSPEECH=/data/LJSpeech-1.1 recipes/ljspeech/run.sh        (default: the 385-utterance ../shared/data/ljspeech-part)
set -euo pipefail
cd "$(dirname "$0")/../.."
source recipes/stages.sh
parse_stages 4 "$@"
PY=${PYTHON:-.venv/bin/python}
LJSPEECH=${LJSPEECH:-../shared/data/ljspeech-part}
DECODER=${DECODER:-greedy} # lm: the bundled English 3-gram LM
TRAIN=${TORCHRUN:-$PY}
W=${WORK:-work/ljspeech}
mkdir -p "$W"

# The last LJ_TEST (35) utterances of metadata.csv are test, the LJ_DEV (25) before them dev.
run_stage 1 prepare $PY -m speech2text prepare ljspeech "$LJSPEECH" --out $W/data \
  --test-utterances ${LJ_TEST:-35} --dev-utterances ${LJ_DEV:-25}
run_stage 2 train $TRAIN -m speech2text train recipes/ljspeech/config.toml train_manifests=$W/data/train.jsonl \
  dev_manifest=$W/data/dev.jsonl out_dir=$W/run "${overrides[@]}"
run_stage 3 evaluate $PY -m speech2text evaluate --model $W/run/best.pt --manifest $W/data/test.jsonl \
  --decoder $DECODER --worst 5 --hypotheses $W/hyp_$DECODER.jsonl | tee $W/eval_$DECODER.txt
run_stage 4 export $PY -m speech2text export $W/model.torchscript.pt --format torchscript --model $W/run/best.pt
