#!/usr/bin/env bash
# The bundled model, by one command: data, training declared in config.toml, LM, scores, export.
#   recipes/default_model/run.sh [--stage N] [--stop-stage N]
# Stages are numbered and resumable: each writes a marker when done, synthesis keeps finished files
# (and grows a corpus when its hours are raised), training resumes from its last checkpoint.
# Environment: PYTHON (.venv/bin/python), WORK (work/default_model), WORKERS (all cores),
# NEURAL_HOURS (2.0) of Piper/Kokoro speech (two hours more: natural_hours.sh), CLASSIC_HOURS (1.5) of
# espeak-ng/flite/festival speech, DEVICE (auto). Measured wall times and scores: recipes/default_model/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
source recipes/stages.sh
parse_stages 9 "$@"
no_overrides
PY=${PYTHON:-.venv/bin/python}
W=${WORK:-work/default_model}
WORKERS=${WORKERS:-$(nproc)}
S2T="$PY -m speech2text"
mkdir -p "$W"
# config.toml names its files under work/default_model.
if [ "$(realpath -m "$W")" != "$(realpath -m work/default_model)" ]; then
  mkdir -p work && ln -sfn "$(realpath "$W")" work/default_model
fi
TEXT="--text ../shared/data/text/*.txt --queries"

# 1. Real speech, split by `speech2text prepare` (the library's one rule per corpus): FSDD speakers
# theo and yweweler held out whole (recordings 45-49 for dev, 0-44 a test set); the other four
# train on recordings 5-49 (checkpoints are chosen on the unseen speakers, so no dev of their own
# is needed) and 0-4 are a test set. LJ Speech's last 35 utterances a test set, the 25 before them dev.
prepare_real() {
  $S2T prepare fsdd ../shared/data/fsdd --unseen-speakers theo,yweweler --out $W/fsdd
  cat $W/fsdd/train.jsonl $W/fsdd/dev.jsonl > $W/fsdd_train.jsonl
  cp $W/fsdd/test.jsonl $W/fsdd_test.jsonl
  cp $W/fsdd/unseen_dev.jsonl $W/fsdd_unseen_dev.jsonl
  cp $W/fsdd/unseen_test.jsonl $W/fsdd_unseen_speakers.jsonl
  $S2T prepare ljspeech ../shared/data/ljspeech-part --out $W/ljspeech
  for split in train dev test; do cp $W/ljspeech/$split.jsonl $W/ljspeech_$split.jsonl; done
}
run_stage 1 prepare-real prepare_real
# 2. Natural voices (the [voices] extra): Piper joe and Kokoro's packs and blends, one utterance in three
# from Piper. Kokoro's jf_alpha and every blend containing it are held out: they read 250 sentences
# nobody else says (heldout.jsonl). LJ Speech sentences are never spoken. Then two more hours of the
# same voices with new blends, small words in their weak forms half the time: one of text and queries,
# one mostly of conversation.gram (natural_hours.sh; README, "weak forms" and "talk").
source recipes/default_model/natural_hours.sh
natural_voices() {
  $S2T synthesize $TEXT --hours ${NEURAL_HOURS:-2.0} --engines piper,kokoro \
    --engine-weights kokoro=2,piper=1 --holdout-voices jf_alpha --heldout-sentences 250 --dev-sentences 100 \
    --exclude $W/ljspeech_train.jsonl --exclude $W/ljspeech_dev.jsonl --exclude $W/ljspeech_test.jsonl \
    --workers $WORKERS --out $W/neural
  weak_hour
  talk_hour
}
run_stage 2 neural-voices natural_voices
# 3. The classic engines (espeak-ng, flite, festival; slt held out), never saying a held-out sentence.
run_stage 3 classic-voices $S2T synthesize $TEXT --hours ${CLASSIC_HOURS:-1.5} --engines espeak-ng,flite,festival \
  --holdout-voices slt --heldout-sentences 0 --seed 1 \
  --exclude $W/ljspeech_train.jsonl --exclude $W/ljspeech_dev.jsonl --exclude $W/ljspeech_test.jsonl \
  --exclude $W/neural/heldout.jsonl --exclude $W/neural/dev.jsonl --workers $WORKERS --out $W/synth
# 4. The real training speech three more times, in simulated rooms, noise and channels.
run_stage 4 augment-real $PY recipes/default_model/augment_real.py $W/ljspeech_train.jsonl $W/fsdd_train.jsonl \
  --out $W/real_aug --copies 3 --workers $WORKERS
# 5. Dev (checkpoint and LM-weight selection): real LJ Speech and FSDD speech and the held-out natural
# voice, all unheard in training; the rest of the held-out voice's sentences is a test set.
dev_sets() {
  head -n 50 $W/neural/heldout.jsonl > $W/neural_heldout_dev.jsonl
  tail -n +51 $W/neural/heldout.jsonl > $W/neural_heldout_test.jsonl
  cat $W/ljspeech_dev.jsonl $W/fsdd_unseen_dev.jsonl $W/neural_heldout_dev.jsonl > $W/dev.jsonl
}
run_stage 5 dev-sets dev_sets
# 6. Training, as config.toml declares it: the mixture, the model, the schedule. It starts from the
# release before it (en-small of 2026-12-06 with the levelling frontend, kept in git history), so its
# frontend moves every input's speech level to -6 dB (features.SPEECH_LEVEL_DB; README, "fifth
# session"). The model is the run's best checkpoint: on dev it beat its mean with that release and
# every candidate before it (README, "talk").
MODEL=$W/run_talk/best.pt
train() {
  local start=$W/en-small-level.pt
  [ -f $start ] || git show ef3ce53:speech2text/pretrained/en-small.pt > $start
  $S2T train recipes/default_model/config.toml device=${DEVICE:-auto}
}
run_stage 6 train train
# 7. The word 3-gram LM: public-domain text plus the assistant grammar and conversation.gram, minus
# every dev and test sentence (FSDD's are single digit words: excluding them would drop every sentence
# with a number); its weights tuned on dev.
HELD_OUT="--exclude $W/ljspeech_dev.jsonl --exclude $W/ljspeech_test.jsonl --exclude $W/neural/dev.jsonl \
  --exclude $W/neural/heldout.jsonl"
build_lm() {
  $PY -c "from speech2text.grammar import assistant_sentences; print('\n'.join(assistant_sentences()))" > $W/queries.txt
  $PY -c "from pathlib import Path; from speech2text.grammar import Grammar
print('\n'.join(Grammar(Path('recipes/default_model/conversation.gram').read_text()).sentences(seed=3)))" \
    > $W/conversation.txt
  # The grammars count twice: --prune drops trigrams seen once, and each query is one sentence of its
  # kind ("what is your name" lost its trigrams that way); they are the product's domain.
  cat $W/queries.txt $W/queries.txt > $W/queries_twice.txt
  cat $W/conversation.txt $W/conversation.txt > $W/conversation_twice.txt
  $S2T lm build ../shared/data/text/*.txt $W/queries_twice.txt $W/conversation_twice.txt -o $W/lm.arpa \
    --prune $HELD_OUT
  $S2T lm tune --model $MODEL --lm $W/lm.arpa --manifest $W/dev.jsonl | tee $W/lm_tune.txt
}
run_stage 7 language-model build_lm
# An LM older than the dev and test sentences may hold them: a corpus remade with another plan after
# stage 7 has other held-out sentences (it happened once: the LM of 2026-12-03 held some of the
# natural voice's test sentences of 2026-12-06). Stages 8 and 9 refuse it.
lm_is_current() {
  for held in $W/neural/heldout.jsonl $W/neural/dev.jsonl $W/ljspeech_dev.jsonl $W/ljspeech_test.jsonl; do
    if [ $held -nt $W/lm.arpa ]; then echo "run.sh: $held is newer than $W/lm.arpa: run stage 7 again" >&2; exit 1; fi
  done
}
# 8. Every test set, greedy and with the LM; never trained on, never used to choose anything.
evaluate_all() {
  lm_is_current
  for set in neural_heldout_test ljspeech_test fsdd_unseen_speakers fsdd_test; do
    for decoder in greedy lm; do
      lm=(); if [ $decoder = lm ]; then lm=(--lm $W/lm.arpa $(grep '^best:' $W/lm_tune.txt | cut -d: -f2)); fi
      $S2T evaluate --model $MODEL --manifest $W/$set.jsonl --worst 3 --decoder $decoder "${lm[@]}" \
        --hypotheses $W/hyp_${set}_$decoder.jsonl | tee $W/eval_${set}_$decoder.txt
    done
  done
}
run_stage 8 evaluate evaluate_all
# 9. Into the package: float16 weights, the gzipped LM, the ONNX file.
export_model() {
  lm_is_current
  $PY recipes/default_model/export.py $MODEL speech2text/pretrained/en-small.pt
  gzip -9 -c $W/lm.arpa > speech2text/pretrained/en-small.arpa.gz
  $S2T export speech2text/pretrained/en-small.onnx --format onnx
}
run_stage 9 export export_model
