# One hour of natural voices beside stage 2's corpus: Piper joe and Kokoro (3 Kokoro : 2 Piper), jf_alpha
# held out, never a dev or test sentence. Sourced by run.sh and experiments/ablations.sh, with PY and W set.
#   natural_hour --seed N [--text/--grammar/--queries ...] [--weak-forms SHARE] --out DIR
natural_hour() {
  $PY -m speech2text synthesize --hours 1.0 --engines piper,kokoro --engine-weights kokoro=3,piper=2 \
    --holdout-voices jf_alpha --heldout-sentences 0 --dev-sentences 0 \
    --exclude $W/ljspeech_train.jsonl --exclude $W/ljspeech_dev.jsonl --exclude $W/ljspeech_test.jsonl \
    --exclude $W/neural/heldout.jsonl --exclude $W/neural/dev.jsonl --workers ${WORKERS:-$(nproc)} "$@"
}
# Seed 2: new Kokoro blends, public-domain text and the assistant queries, each unstressed small word in
# its weak form with probability 0.5 (README, "weak forms").
weak_hour() {
  natural_hour --text ../shared/data/text/*.txt --queries --seed 2 --weak-forms 0.5 --out $W/neural_weak
}
# Seed 3: other blends; two utterances in three from conversation.gram ("what is your favorite color",
# "tell my mother that i am on my way"), never one of the demo's sentences (README, "talk").
talk_hour() {
  natural_hour --text ../shared/data/text/*.txt --max-text-sentences 2500 --grammar recipes/default_model/conversation.gram \
    --seed 3 --weak-forms 0.5 --out $W/neural_talk
}
