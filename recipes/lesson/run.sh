#!/usr/bin/env bash
# The lesson: plain RNN vs GRU vs LSTM, on a recall task, in their gradients and on real speech.
#   recipes/lesson/run.sh [--stage N] [--stop-stage N]
# Stages are numbered and resumable: each writes a marker when done; stage 2 keeps every finished
# (cell, lag) and stage 4's trainer resumes from its last checkpoint.
# Environment: QUICK=1 (quick.toml, about 4 minutes on a 2-core CPU; otherwise full.toml, about 21
# minutes), CONFIG (overrides both), WORK (work/lesson), PYTHON (.venv/bin/python),
# FSDD (../shared/data/fsdd). Measured times and results: recipes/lesson/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
source recipes/stages.sh
parse_stages 6 "$@"
no_overrides
PY=${PYTHON:-.venv/bin/python}
W=${WORK:-work/lesson}
FSDD=${FSDD:-../shared/data/fsdd}
if [ "${QUICK:-0}" = 1 ]; then CONFIG=${CONFIG:-recipes/lesson/quick.toml}; else CONFIG=${CONFIG:-recipes/lesson/full.toml}; fi
L=recipes/lesson
mkdir -p "$W"
cp "$CONFIG" "$W/config.toml"  # the run folder says which settings made it

# 1. FSDD manifests by the library's split rule: indices 0-4 test, 5-9 dev, 10-49 train.
run_stage 1 prepare-fsdd $PY -m speech2text prepare fsdd "$FSDD" --out $W/fsdd
# 2. Sequential memory: each cell type learns to recall a token after each lag.
run_stage 2 memory $PY $L/memory.py "$CONFIG" --out $W/memory
# 3. Gradients by distance (at init, after stage 2's training) and per step with and without clipping.
run_stage 3 gradients $PY $L/gradients.py "$CONFIG" --memory $W/memory --out $W/gradients.json
# 4. Real speech: the library's acoustic model with each cell type, the same budget, dev CER per epoch.
run_stage 4 speech $PY $L/speech.py "$CONFIG" --data $W/fsdd --out $W/speech
# 5. results.json, results.md and figures/*.png in $W.
run_stage 5 report $PY $L/report.py "$CONFIG" --work $W
# 6. The figures into the recipe README's folder (recipes/lesson/figures), to commit the run.
publish() { cp $W/figures/*.png $W/results.json $W/results.md $L/figures/; }
run_stage 6 publish publish
