#!/usr/bin/env bash
# A recognizer from text alone: synthetic speech in, a model scored on voices it never heard.
# Stages are numbered and resumable (markers; synthesis keeps finished files; training resumes).
#   recipes/synthetic/run.sh [--stage N] [--stop-stage N]
# Measured settings and scores: recipes/synthetic/README.md. Environment:
#   PYTHON, WORK (default work/synthetic), WORKERS (all cores), DEVICE (auto)
#   HOLDOUT (slt,ked): speakers kept out of training; each is scored on its own
#   HOURS (10) of speech through the realism pass, CLEAN_HOURS (5) of clean engine output (0: none)
#   TEXT (../shared/data/text/*.txt): sentence files, with the assistant grammar; TEXT= (empty): the grammar alone
#   HELDOUT_SENTENCES (300), DEV_SENTENCES (200)
#   CORPUS: a corpus that `speech2text synthesize` already made (e.g. work/default_model/synth); stage 1 is then skipped
#   HIDDEN (320), LAYERS (4), EPOCHS (8), BATCH_SECONDS (200; 600 suits a GPU), LR (2e-3)
#   SPEEDS (0.9,1.0,1.1,1.2): speed perturbation; 1.2 shortens the vocal tract, towards the female slt
#   VTLP (1.0,1.0: off): range of vocal tract length perturbation factors, e.g. 0.9,1.2
set -euo pipefail
cd "$(dirname "$0")/../.."
source recipes/stages.sh
parse_stages 4 "$@"
no_overrides
PY=${PYTHON:-.venv/bin/python}
W=${WORK:-work/synthetic}
S2T="$PY -m speech2text"
mkdir -p "$W"
HOLDOUT=${HOLDOUT:-slt,ked}
TEXT=${TEXT-../shared/data/text/*.txt}
SYNTH=(--queries ${TEXT:+--text $TEXT} --holdout-voices $HOLDOUT --workers ${WORKERS:-$(nproc)}
       --heldout-sentences ${HELDOUT_SENTENCES:-300} --dev-sentences ${DEV_SENTENCES:-200})

# 1. Ten hours of speech from public-domain sentences and the voice-assistant grammar, through the
# realism pass. The held-out voices read 300 sentences that no training voice says; 200 more make the dev set.
C=${CORPUS:-$W/corpus}
if [ -n "${CORPUS:-}" ]; then touch "$W/.done.1"; fi
run_stage 1 synthesize $S2T synthesize "${SYNTH[@]}" --hours ${HOURS:-10} --out $C
# 2. A clean share: the engines' own output, other sentences and voices (seed 7), none of dev or held-out.
# The held-out voices are scored on clean engine output, which the realism pass alone never gives the model.
CLEAN_HOURS=${CLEAN_HOURS:-5}
clean_share() {
  if [ "$CLEAN_HOURS" = 0 ]; then return; fi
  $S2T synthesize "${SYNTH[@]}" --hours $CLEAN_HOURS --seed 7 --no-realism --splits train \
    --exclude $C/dev.jsonl --exclude $C/heldout.jsonl --out $W/clean
}
run_stage 2 clean-share clean_share
# 3. Synthetic speech only.
train() {
  local manifests=(--train $C/train.jsonl)
  if [ "$CLEAN_HOURS" != 0 ]; then manifests+=(--train $W/clean/train.jsonl); fi
  $S2T train "${manifests[@]}" --dev $C/dev.jsonl --out $W/run --hidden-size ${HIDDEN:-320} --num-layers ${LAYERS:-4} \
    --epochs ${EPOCHS:-8} --lr ${LR:-2e-3} --batch-seconds ${BATCH_SECONDS:-200} --warmup-steps 200 \
    --device ${DEVICE:-auto} "augment.speeds=[${SPEEDS:-0.9,1.0,1.1,1.2}]" "augment.vtlp=[${VTLP:-1.0,1.0}]"
}
run_stage 3 train train
# 4. Each held-out voice on the unseen sentences, greedy (the bundled LM's text could hold these sentences).
evaluate() {
  local manifests=()
  for speaker in ${HOLDOUT//,/ }; do
    $PY -c "import sys; from speech2text.manifest import read_manifest, write_manifest
write_manifest(sys.argv[3], [r for r in read_manifest(sys.argv[1]) if r['voice']['speaker'] == sys.argv[2]])" \
      $C/heldout.jsonl $speaker $W/heldout_$speaker.jsonl
    if [ -s $W/heldout_$speaker.jsonl ]; then manifests+=(--manifest $W/heldout_$speaker.jsonl)
    else echo "no held-out utterance of $speaker: not scored"; fi
  done
  $S2T evaluate --model $W/run/best.pt "${manifests[@]}" --decoder greedy --hypotheses $W/hyp_heldout.jsonl \
    | tee $W/eval_heldout.txt
}
run_stage 4 evaluate evaluate
