# Sourced by the experiment scripts (needs W and S2T set):
# dev_score NAME MODEL [evaluate options]: the three dev parts (default decoder unless given) into
# $W/ablations/dev_NAME.txt, and one line with their mean, the rule the recipe selects by.
dev_score() {
  local name=$1 model=$2; shift 2
  mkdir -p $W/ablations
  $S2T evaluate --model "$model" --runtime torch --manifest $W/ljspeech_dev.jsonl --manifest $W/fsdd_unseen_dev.jsonl \
    --manifest $W/neural_heldout_dev.jsonl --worst 0 "$@" 2>/dev/null > $W/ablations/dev_$name.txt
  printf '%-4s %s\n' $name "$(awk '/_dev /{sum += $3; n++} END {printf "%.2f%% mean of %d dev parts:", sum / n, n}' \
    $W/ablations/dev_$name.txt) $(awk '/_dev /{printf " %s %s", $1, $3}' $W/ablations/dev_$name.txt)"
}
