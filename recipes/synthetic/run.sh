#!/usr/bin/env bash
# A recognizer from text alone: synthetic speech in, a model evaluated on a voice it never heard.
# Stages are numbered and resumable (markers; synthesis keeps finished files; training resumes).
#   recipes/synthetic/run.sh [--stage N] [--stop-stage N]
# Environment: PYTHON, WORK (default work/synthetic), WORKERS (all cores), HOURS (10), EPOCHS (7: about 70 min on 2 CPU cores),
# DEVICE (auto), HOLDOUT (slt: flite's slt, the only female recorded voice), CORPUS (a corpus that
# `speech2text synthesize` already made, e.g. work/default_model/synth: stage 1 is then skipped).
set -euo pipefail
cd "$(dirname "$0")/../.."
source recipes/stages.sh
parse_stages 3 "$@"
no_overrides
PY=${PYTHON:-.venv/bin/python}
W=${WORK:-work/synthetic}
S2T="$PY -m speech2text"
mkdir -p "$W"

# 1. Ten hours of speech from public-domain sentences and the voice-assistant grammar. The held-out
# voice reads 300 sentences that no training voice says; 200 more make the dev set.
C=${CORPUS:-$W/corpus}
if [ -n "${CORPUS:-}" ]; then touch "$W/.done.1"; fi
run_stage 1 synthesize $S2T synthesize --queries --text ../shared/data/text/*.txt --hours ${HOURS:-10} \
  --holdout-voices ${HOLDOUT:-slt} --heldout-sentences 300 --dev-sentences 200 --workers ${WORKERS:-$(nproc)} --out $C
# 2. Synthetic speech only.
run_stage 2 train $S2T train --train $C/train.jsonl --dev $C/dev.jsonl --out $W/run \
  --hidden-size 256 --num-layers 3 --epochs ${EPOCHS:-7} --batch-seconds 200 --warmup-steps 200 --device ${DEVICE:-auto}
# 3. The held-out voice on unseen sentences. Greedy: the bundled LM's text could hold these sentences.
run_stage 3 evaluate $S2T evaluate --model $W/run/best.pt --manifest $C/heldout.jsonl --decoder greedy \
  --hypotheses $W/hyp_heldout.jsonl
