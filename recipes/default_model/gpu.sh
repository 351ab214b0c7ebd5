#!/usr/bin/env bash
# Training on a lent GPU machine (the device tool: one call of at most 10 minutes, 64 MiB carried, no
# network, Python 3.12 with torch and torchaudio but none of soundfile, jiwer, num2words, pyroomacoustics):
#   recipes/default_model/gpu.sh prepare CONFIG [--kbps N] [--share F]   here, after run.sh stages 1-4:
#                                                 the pack (pack.py's options) and the wheels, into work/gpu
#   recipes/default_model/gpu.sh train [MINUTES] [KEY=VALUE...]   there, with carry ["work/gpu"]
# `train` installs the wheels, makes the pack's derived rows again on every core, trains the packed
# config on CUDA for at most MINUTES (7), and leaves under $OUT what comes back: best.pt as float16
# (export.py), the log, run.tar.gz (metrics.jsonl, metrics.png, config.json) and last.pt in parts:
#   cat last.pt.part-* > work/default_model/run/last.pt   (then config.toml goes on here, on the CPU)
# A stopped run keeps its best.pt from the last dev evaluation, so a short call still returns a model.
# Measured: recipe README, "Training on a lent GPU". Environment: GPU_DIR (work/gpu), PYTHON (python3
# there, .venv/bin/python for prepare), DEVICE (cuda; the tests run `train` on the CPU).
set -euo pipefail
cd "$(dirname "$0")/../.."
G=${GPU_DIR:-work/gpu}
LIMIT_MIB=64

prepare() {
  local config=$1; shift
  PY=${PYTHON:-.venv/bin/python}
  $PY recipes/default_model/pack.py pack "$config" --out $G/pack "$@"
  # The device's Python is 3.12 on x86-64; docopt (num2words' command line only) has no wheel.
  mkdir -p $G/wheels
  $PY -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d $G/wheels soundfile==0.14.0 cffi==2.1.1 jiwer==4.0.0 rapidfuzz==3.14.6 num2words==0.5.14 \
    pyroomacoustics==0.10.1
  rm -rf $G/pack/derived  # made there again by `train`; one made here (an unpack to try it) must not travel
  local tree carried
  tree=$(git ls-files -z | xargs -0 cat | wc -c)
  carried=$(du -sb $G | cut -f1)
  awk -v t=$tree -v c=$carried -v limit=$LIMIT_MIB 'BEGIN {
    printf "travels: tracked tree %.1f MiB + %s %.1f MiB = %.1f MiB of %d\n",
      t / 2^20, "'$G'", c / 2^20, (t + c) / 2^20, limit
    if (t + c > limit * 2^20) {
      print "gpu.sh: too large to carry: pack a smaller --share into another folder" > "/dev/stderr"; exit 1 } }'
}

train() {
  local minutes=${1:-7}; shift || true
  : "${OUT:?gpu.sh train runs on the device machine, where OUT is set}"
  local py=${PYTHON:-python3} run status=0
  run=$(mktemp -d /tmp/gpu_run.XXXXXX)
  if ! $py -c "import soundfile, jiwer, num2words, pyroomacoustics" 2>/dev/null; then
    $py -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site $G/wheels/*.whl
    export PYTHONPATH=/tmp/site
  fi
  $py recipes/default_model/pack.py unpack $G/pack --workers "$(nproc)"
  { nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>&1 || true; } | tee $OUT/train.log
  timeout --signal=TERM "${minutes}m" $py -m speech2text train $G/pack/config.json device=${DEVICE:-cuda} \
    num_workers=8 threads=2 progress=false out_dir=$run "$@" 2>&1 | tee -a $OUT/train.log || status=$?
  echo "gpu.sh: training ended with status $status after at most $minutes min" | tee -a $OUT/train.log
  # At most 8 files of 16 MiB come back: the run's small files in one archive, and the full checkpoint
  # (54 MB with its optimizer) in parts, which joined in a run folder here resume on this CPU. A run
  # stopped before its first checkpoint or dev evaluation has no last.pt or best.pt to send.
  tar -C $run -czf $OUT/run.tar.gz $(cd $run && ls metrics.jsonl metrics.png config.json 2>/dev/null)
  if [ -f $run/last.pt ]; then split -b 15M $run/last.pt $OUT/last.pt.part-; fi
  if [ -f $run/best.pt ]; then
    $py recipes/default_model/export.py $run/best.pt $OUT/best.pt | tee -a $OUT/train.log
  fi
}

usage() { echo "usage: gpu.sh prepare CONFIG [--kbps N] [--share F] | gpu.sh train [MINUTES] [KEY=VALUE...]" >&2; exit 2; }
case ${1:-} in
  prepare) shift; [ $# -ge 1 ] || usage; prepare "$@" ;;
  train) shift; train "$@" ;;
  *) usage ;;
esac
