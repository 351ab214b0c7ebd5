#!/usr/bin/env bash
# The ablations of recipes/default_model/README.md, trained and scored in one go:
#   recipes/default_model/experiments/ablations.sh [train|listener|select|score]...   (default: train select score;
#   train ends with listener)
# Run from the repository root after recipes/default_model/run.sh stages 1-5 (data and test sets).
#   normalization   the release of 2026-12-03 fine-tuned 3 epochs x 4 h, global against per-utterance
#                   feature normalization (normalization.toml), both arms side by side, a thread each
#   without_neural  the 2026-12-03 run (round_2026-12-03.toml: the release before, 7 epochs x 6 h) without the
#                   natural voices (without_neural.toml); its "with" arm is the release of 2026-12-03
#   microphone      random microphone colouring (augment.eq_db=10): the global arm of normalization.toml
#                   with it (eq_short), and round_2026-12-03.toml with it (eq_full); side by side
#   vocal tract     round_2026-12-03.toml with vocal tract length perturbation (augment.vtlp=[0.9,1.12]): vtlp_full
#   digits          round_2026-12-03.toml with synthetic single digits and digit strings (digits.toml): digits_full
#   weak forms      the levelled release (2026-12-06, fifth session) fine-tuned 5 epochs x 6 h at lr 5e-4 with
#                   an hour of new natural-voice speech that says function words in their weak forms
#                   (weak_forms.toml: run_weak), against the same hour said in citation forms (run_plain);
#                   side by side, a thread each
#                   The talk run that followed (weak_forms.toml plus an hour mostly of conversation.gram) is
#                   config.toml since 2026-12-07: run.sh stage 6 trains it, stage 2 makes both hours
#   listener        the shipped en-small fine-tuned 3 epochs x 4 h at lr 5e-4 with the classic engines' utterances
#                   that whisper tiny.en cannot make out left out (listen.py, listened.toml: listen_understood),
#                   against the same with them kept (listen_all); side by side, a thread each
# Every training resumes where it stopped. `select` averages the runs that start from the release
# before (average.py) and scores every candidate on the three dev parts with the default decoder: the
# rule picks the lowest mean of the three parts' WER. `score` puts every model through the same test
# sets with the greedy decoder and the default decoder (the bundled LM at its default weights): a table
# per model and decoder, in work/default_model/ablations/.
set -euo pipefail
cd "$(dirname "$0")/../../.."
PY=${PYTHON:-.venv/bin/python}
W=work/default_model
E=recipes/default_model/experiments
S2T="$PY -m speech2text"
source recipes/default_model/natural_hours.sh
source $E/dev_score.sh
# The releases the arms start from, out of git history: 2026-11-26 (init.pt) and 2026-12-03.
[ -f $W/init.pt ] || git show d48559b:speech2text/pretrained/en-small.pt > $W/init.pt
[ -f $W/en-small-2026-12-03.pt ] || git show 93e300a:speech2text/pretrained/en-small.pt > $W/en-small-2026-12-03.pt
[ -f $W/en-small-level.pt ] || git show ef3ce53:speech2text/pretrained/en-small.pt > $W/en-small-level.pt

train() {
  $S2T train $E/normalization.toml out_dir=$W/norm_global > $W/norm_global.log 2>&1 &
  $S2T train $E/normalization.toml out_dir=$W/norm_utterance normalization=utterance > $W/norm_utterance.log 2>&1 &
  wait
  $S2T train $E/without_neural.toml > $W/without_neural.log 2>&1
  $S2T train $E/normalization.toml out_dir=$W/eq_short augment.eq_db=10 > $W/eq_short.log 2>&1 &
  $S2T train $E/round_2026-12-03.toml out_dir=$W/eq_full augment.eq_db=10 threads=1 > $W/eq_full.log 2>&1 &
  wait
  $S2T train $E/round_2026-12-03.toml out_dir=$W/vtlp_full 'augment.vtlp=[0.9,1.12]' > $W/vtlp_full.log 2>&1
  digits_corpus
  $S2T train $E/digits.toml > $W/digits_full.log 2>&1
  weak_corpora
  $S2T train $E/weak_forms.toml threads=1 > $W/run_weak.log 2>&1 &
  $S2T train $E/weak_forms.toml threads=1 out_dir=$W/run_plain "train_manifests=[$(manifests_with weak_forms.toml neural_weak neural_plain)]" \
    > $W/run_plain.log 2>&1 &
  wait
  listener
}

# Two seeds of each arm, then both arms' dev scores, default decoder and greedy.
listener() {
  $PY recipes/default_model/listen.py $W/synth/train.jsonl | tee $W/listen_synth.txt
  local all="train_manifests=[$(manifests_with listened.toml synth/train.understood.jsonl synth/train.jsonl)]"
  for seed in 0 1; do
    local suffix=; [ $seed = 0 ] || suffix=_s$seed
    $S2T train $E/listened.toml seed=$seed out_dir=$W/listen_understood$suffix > $W/listen_understood$suffix.log 2>&1 &
    $S2T train $E/listened.toml seed=$seed out_dir=$W/listen_all$suffix "$all" > $W/listen_all$suffix.log 2>&1 &
    wait
  done
  for run in listen_all listen_understood listen_all_s1 listen_understood_s1; do
    dev_score $run $W/$run/best.pt
    dev_score ${run}_greedy $W/$run/best.pt --decoder greedy
  done | tee $W/ablations/listener.txt
}

# One plan (seed 2: new Kokoro blends), an hour of natural voices (3 Kokoro : 2 Piper), said twice: with half
# the unstressed function words in their weak forms, and in espeak's citation forms. No held-out sentence.
weak_corpora() {
  weak_hour
  natural_hour --text ../shared/data/text/*.txt --queries --seed 2 --weak-forms 0 --out $W/neural_plain
}

# manifests_with CONFIG OLD NEW: the experiment config's sources as a JSON list, OLD swapped for NEW in each.
manifests_with() {
  $PY -c "import json, sys, tomllib
sources = tomllib.load(open('$E/' + sys.argv[1], 'rb'))['train_manifests']
print(','.join(json.dumps(m.replace(sys.argv[2], sys.argv[3])) for m in sources))" "$@"
}

# Every training voice (natural and classic, 120 Kokoro blends) saying one digit, 100 voices per digit,
# and 300 strings of 2-5 digits once each; the held-out voices jf_alpha and slt say none.
digits_corpus() {
  mkdir -p $W/digits_text
  $PY -c "
import random
digits = 'zero one two three four five six seven eight nine'.split()
open('$W/digits_text/single.txt', 'w').write('\n'.join(digits) + '\n')
rng, strings = random.Random(7), set()
while len(strings) < 300:
    strings.add(' '.join(rng.choice(digits) for _ in range(rng.randint(2, 5))))
open('$W/digits_text/strings.txt', 'w').write('\n'.join(sorted(strings)) + '\n')"
  local voices=(--min-words 1 --engines piper,kokoro,espeak-ng,flite,festival --kokoro-blends 120
                --engine-weights kokoro=3,piper=1,recorded=1,espeak-ng=1 --holdout-voices jf_alpha,slt
                --heldout-sentences 0 --dev-sentences 0 --workers $(nproc))
  $S2T synthesize --text $W/digits_text/single.txt --copies 100 --seed 2 "${voices[@]}" --out $W/digits_single
  $S2T synthesize --text $W/digits_text/strings.txt --copies 1 --seed 3 "${voices[@]}" --out $W/digits_strings
}

# Runs from the release before, by letter: s the 2026-12-03 release, w without the natural voices,
# f microphone colouring, v vocal tract perturbation, d synthetic digits.
declare -A RUNS=([s]=$W/en-small-2026-12-03.pt [w]=$W/without_neural/best.pt [f]=$W/eq_full/best.pt
                 [v]=$W/vtlp_full/best.pt [d]=$W/digits_full/best.pt)
MEANS=(sw sf swf sv fv sfv sd vd svd sfvd)

select_model() {
  mkdir -p $W/soup
  for name in "${!RUNS[@]}" "${MEANS[@]}"; do
    if [ ${#name} -gt 1 ]; then
      local parts=(); for ((i = 0; i < ${#name}; i++)); do parts+=("${RUNS[${name:i:1}]}"); done
      $PY recipes/default_model/average.py "${parts[@]}" -o $W/soup/$name.pt > /dev/null || continue
      model=$W/soup/$name.pt
    else
      model=${RUNS[$name]}
      [ -f "$model" ] || continue
    fi
    dev_score $name "$model"
  done | sort -k2 -n | tee $W/ablations/select.txt
}

score() {
  local manifests=()
  for set in neural_heldout_test ljspeech_test fsdd_unseen_speakers fsdd_test; do
    manifests+=(--manifest $W/$set.jsonl)
  done
  mkdir -p $W/ablations
  for model in $W/en-small-2026-12-03.pt $W/norm_global/best.pt $W/norm_utterance/best.pt \
      $W/without_neural/best.pt $W/eq_short/best.pt $W/eq_full/best.pt $W/vtlp_full/best.pt $W/soup/*.pt \
      $W/listen_understood/best.pt $W/listen_all/best.pt; do
    name=$(basename "$(dirname "$model")"); [ "$name" = default_model ] && name=shipped_2026-12-03
    [ "$name" = soup ] && name=mean_$(basename "$model" .pt)
    [ -f "$model" ] || { echo "== $name: not trained yet"; continue; }
    for decoder in greedy lm; do
      $S2T evaluate --model "$model" --runtime torch --decoder $decoder "${manifests[@]}" --worst 0 \
        > $W/ablations/${name}_$decoder.txt 2>/dev/null
      echo "== $name, $decoder"; cat $W/ablations/${name}_$decoder.txt
    done
  done
}

steps=("$@"); [ ${#steps[@]} -gt 0 ] || steps=(train select score)
for step in "${steps[@]}"; do
  case $step in
    train|listener|score) $step ;;
    select) select_model ;;
    *) echo "unknown step $step (train, listener, select, score)" >&2; exit 2 ;;
  esac
done
