#!/bin/bash
# usage: recipes/default_model/experiments/evaluate.sh MODEL OUTDIR — greedy and LM (1.2/-1, 1.6/-1) on the three held-out sets
# Run from the repository root after recipes/default_model/run.sh stages 1-7 (the test sets and lm.arpa).
M=$1; O=$2; mkdir -p $O; S="${PYTHON:-.venv/bin/python} -m speech2text"; W=work/default_model
for set in neural_heldout_test ljspeech_test fsdd_unseen_speakers; do
  $S evaluate --model $M --runtime torch --manifest $W/$set.jsonl --decoder greedy > $O/${set}_greedy.txt 2>/dev/null
  for lw in 1.2 1.6; do
    $S evaluate --model $M --runtime torch --manifest $W/$set.jsonl --lm $W/lm.arpa --lm-weight $lw --word-score -1 > $O/${set}_lm$lw.txt 2>/dev/null
  done
  echo "$set: greedy $(grep -o 'WER [0-9.]*%' $O/${set}_greedy.txt | head -1) | lm1.2 $(grep -o 'WER [0-9.]*%' $O/${set}_lm1.2.txt | head -1) | lm1.6 $(grep -o 'WER [0-9.]*%' $O/${set}_lm1.6.txt | head -1)"
done
