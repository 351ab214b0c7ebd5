#!/usr/bin/env bash
# What each kind of training data buys: stage 5's mixture (config.toml) against the same mixture without
# speechocean762, without the machine-labelled hour and without synthetic speech (the others' weights
# scaled up to fill the epoch), each trained EPOCHS epochs from the release of 2026-12-07 with the same
# schedule, each scored on the recipe's LibriSpeech and speechocean762 test speakers, greedy and with
# the recipe's LM. Needs run.sh stages 1-4 and 6 (data, dev set, LM). Resumable: a finished run is kept.
#   recipes/default_model/ablations.sh [EPOCHS]        (default 8: about 25 min a run on 2 CPU cores)
# Prints one markdown table and writes $W/ablations/table.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-.venv/bin/python}
W=${WORK:-work/default_model}
EPOCHS=${1:-8}
S2T="$PY -m speech2text"
OUT=$W/ablations
mkdir -p "$OUT"
[ -f $W/en-small-2026-12-07.pt ] || git show e6ae8a9:speech2text/pretrained/en-small.pt > $W/en-small-2026-12-07.pt
LM_OPTIONS=$(grep '^best:' $W/lm_tune.txt | cut -d: -f2)

# The train overrides for the mixture without the manifests whose path holds any of the given words.
without() {
  $PY - "$@" <<'EOF'
import json, sys, tomllib
config = tomllib.load(open("recipes/default_model/config.toml", "rb"))
kept = [(path, weight) for path, weight in zip(config["train_manifests"], config["source_weights"])
        if not any(word in path for word in sys.argv[1:])]
print(f"train_manifests={json.dumps([path for path, _ in kept])}")
print(f"source_weights={json.dumps([weight for _, weight in kept])}")
EOF
}

declare -A DROPS=([full]="" [no_speechocean762]="speechocean762" [no_labelled]="untranscribed" [no_synthetic]="synth piper")
for name in full no_speechocean762 no_labelled no_synthetic; do
  run=$OUT/$name
  if [ ! -f $run/best.pt ] || [ ! -f $run/.finished ]; then
    mapfile -t mixture < <(without ${DROPS[$name]})
    $S2T train recipes/default_model/config.toml "${mixture[@]}" out_dir=$run epochs=$EPOCHS max_steps=null \
      device=${DEVICE:-auto}
    touch $run/.finished
  fi
  for set in librispeech/test speechocean762/test; do
    for decoder in greedy lm; do
      report=$run/eval_${set/\//_}_$decoder.txt
      [ -f $report ] && continue
      lm=(); if [ $decoder = lm ]; then lm=(--lm $W/lm.arpa $LM_OPTIONS); fi
      $S2T evaluate --model $run/best.pt --manifest $W/$set.jsonl --decoder $decoder "${lm[@]}" > $report
    done
  done
done

$PY - $OUT <<'EOF' | tee $OUT/table.md
import re, sys
from pathlib import Path
out = Path(sys.argv[1])
def wer(name, test, decoder):
    text = (out / name / f"eval_{test}_{decoder}.txt").read_text()
    return float(re.search(r"WER\s*[:=]?\s*([\d.]+)%", text).group(1))
print("| mixture | LibriSpeech test greedy / LM | speechocean762 test greedy / LM |\n|---|---|---|")
for name in ("full", "no_speechocean762", "no_labelled", "no_synthetic"):
    cells = [f"{wer(name, t, 'greedy'):.1f} / {wer(name, t, 'lm'):.1f}%" for t in ("librispeech_test", "speechocean762_test")]
    print(f"| {name.replace('_', ' ')} | " + " | ".join(cells) + " |")
EOF
