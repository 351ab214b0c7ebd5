#!/usr/bin/env bash
# The bundled model, by one command: data, training declared in config.toml, LM, scores, export.
#   recipes/default_model/run.sh [--stage N] [--stop-stage N]
# Stages are numbered and resumable: each writes a marker when done, synthesis keeps finished files,
# training resumes from its last checkpoint. Environment: PYTHON (.venv/bin/python), WORK
# (work/default_model), WORKERS (all cores), DEVICE (auto). Wall times and scores: RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
source recipes/stages.sh
parse_stages 8 "$@"
no_overrides
PY=${PYTHON:-.venv/bin/python}
W=${WORK:-work/default_model}
WORKERS=${WORKERS:-$(nproc)}
S2T="$PY -m speech2text"
DATA=../shared/data
mkdir -p "$W"
# config.toml names its files under work/default_model.
if [ "$(realpath -m "$W")" != "$(realpath -m work/default_model)" ]; then
  mkdir -p work && ln -sfn "$(realpath "$W")" work/default_model
fi

# 1. Real speech, each corpus split by speaker by its one rule in speech2text/corpora.py: LibriSpeech's
# 15 readers 3 test, 2 dev, 10 train; speechocean762's 218 speakers 20 test, 10 dev, the rest train (both
# balanced over gender and, for speechocean762, children and adults); FSDD's theo and yweweler held out
# whole (45-49 dev, 0-44 test), the others' 0-4 a test set; LJ Speech (one reader) its last 35 test, 25
# before them dev. The untranscribed readers (none of them in dev-clean) all train.
prepare_real() {
  $S2T prepare librispeech $DATA/librispeech-dev-clean-part --split-speakers --out $W/librispeech
  $S2T prepare speechocean762 $DATA/speechocean762 --out $W/speechocean762
  $S2T prepare untranscribed $DATA/librispeech-untranscribed --out $W/untranscribed
  $S2T prepare fsdd $DATA/fsdd --unseen-speakers theo,yweweler --out $W/fsdd
  $S2T prepare ljspeech $DATA/ljspeech-part --out $W/ljspeech
}
run_stage 1 prepare-real prepare_real
# 2. Machine labels for the untranscribed hour: whisper tiny.en (the whisper extra). Every row is kept:
# the labeller's mean token probability is 0.88 at the median and under 0.5 for one row of 251.
run_stage 2 label $S2T label $W/untranscribed/train.jsonl --out $W/untranscribed/labelled.jsonl
# 3. Synthetic speech for vocabulary and the assistant's queries: an hour of espeak-ng, flite and
# festival (slt held out: the demo files in assets/ are slt) and half an hour of Piper joe (the voices
# extra), never saying a dev or test sentence.
HELD_OUT=""
for set in ljspeech/dev ljspeech/test librispeech/dev librispeech/test speechocean762/dev speechocean762/test; do
  HELD_OUT+=" --exclude $W/$set.jsonl"
done
TEXT="--text $DATA/text/*.txt --queries"
synthesize() {
  $S2T synthesize $TEXT --hours 1.0 --engines espeak-ng,flite,festival --holdout-voices slt \
    --heldout-sentences 0 --dev-sentences 0 --seed 1 $HELD_OUT --workers $WORKERS --out $W/synth
  $S2T synthesize $TEXT --hours 0.5 --engines piper \
    --heldout-sentences 0 --dev-sentences 0 --seed 2 $HELD_OUT --workers $WORKERS --out $W/piper
}
run_stage 3 synthesize synthesize
# 4. Dev (checkpoint and LM-weight selection): real speakers never trained on, nothing else.
run_stage 4 dev-set eval "cat $W/librispeech/dev.jsonl $W/speechocean762/dev.jsonl $W/fsdd/unseen_dev.jsonl > $W/dev.jsonl"
# 5. Training, as config.toml and config_more.toml declare it: the mixtures, the model, the schedules. It
# starts from the release of 2026-12-07, kept in git history (from random weights this CPU's budget does
# not reach it: RESULTS.md, 2026-12-08), trains 13 epochs on the real mixture (run/), then 36 more on one
# that leans towards audiobook readers (run_more/).
MODEL=$W/run_more/best.pt
train() {
  local start=$W/en-small-2026-12-07.pt
  [ -f $start ] || git show e6ae8a9:speech2text/pretrained/en-small.pt > $start
  $S2T train recipes/default_model/config.toml device=${DEVICE:-auto}
  $S2T train recipes/default_model/config_more.toml device=${DEVICE:-auto}
}
run_stage 5 train train
# 6. The word 3-gram LM: public-domain text, the training transcripts, the assistant grammar,
# conversation.gram and coffee-shop orders (orders.gram), minus every dev and test sentence; its weights
# tuned on dev.
build_lm() {
  $PY -c "from speech2text.grammar import assistant_sentences; print('\n'.join(assistant_sentences()))" > $W/queries.txt
  $PY -c "from pathlib import Path; from speech2text.grammar import Grammar
print('\n'.join(Grammar(Path('recipes/default_model/conversation.gram').read_text()).sentences(seed=3)))" \
    > $W/conversation.txt
  $PY -c "from pathlib import Path; from speech2text.grammar import Grammar
print('\n'.join(Grammar(Path('recipes/default_model/orders.gram').read_text()).sentences(per_template=600, seed=4)))" \
    > $W/orders.txt
  $PY -c "import json, sys
for path in sys.argv[1:]:
    for line in open(path):
        print(json.loads(line)['text'])" $W/speechocean762/train.jsonl $W/librispeech/train.jsonl \
    $W/untranscribed/labelled.jsonl $W/ljspeech/train.jsonl > $W/transcripts.txt
  # The grammars count twice: --prune drops trigrams seen once, and each query is one sentence of its
  # kind ("what is your name" lost its trigrams that way); they are the product's domain. The orders,
  # a sample of 600 per template, repeat their trigrams already.
  cat $W/queries.txt $W/queries.txt > $W/queries_twice.txt
  cat $W/conversation.txt $W/conversation.txt > $W/conversation_twice.txt
  $S2T lm build $DATA/text/*.txt $W/transcripts.txt $W/queries_twice.txt $W/conversation_twice.txt $W/orders.txt \
    -o $W/lm.arpa --prune $HELD_OUT
  # Tuned at beam 256; the default width is 128 (decoding.DEFAULT_BEAM_SIZE), chosen afterwards with these
  # weights by benchmarks/lm_search.py (RESULTS.md).
  $S2T lm tune --model $MODEL --lm $W/lm.arpa --manifest $W/dev.jsonl --beam-size 256 \
    --lm-weights 0.8,1.2,1.6,2.0,2.5 --word-scores -1,0,1 | tee $W/lm_tune.txt
}
run_stage 6 language-model build_lm
# 7. Every test set, greedy and with the LM; never trained on, never used to choose anything.
TEST_SETS="librispeech/test speechocean762/test ljspeech/test fsdd/unseen_test fsdd/test"
evaluate_all() {
  for set in $TEST_SETS; do
    for decoder in greedy lm; do
      lm=(); if [ $decoder = lm ]; then lm=(--lm $W/lm.arpa $(grep '^best:' $W/lm_tune.txt | cut -d: -f2)); fi
      name=${set/\//_}
      $S2T evaluate --model $MODEL --manifest $W/$set.jsonl --worst 3 --decoder $decoder "${lm[@]}" \
        --hypotheses $W/hyp_${name}_$decoder.jsonl | tee $W/eval_${name}_$decoder.txt
    done
  done
}
run_stage 7 evaluate evaluate_all
# 8. Into the package: float16 weights, the gzipped LM, the ONNX file.
export_model() {
  $PY recipes/default_model/export.py $MODEL speech2text/pretrained/en-small.pt
  gzip -9 -c $W/lm.arpa > speech2text/pretrained/en-small.arpa.gz
  $S2T export speech2text/pretrained/en-small.onnx --format onnx
}
run_stage 8 export export_model
