# Numbered, resumable stages for recipes/*/run.sh, which source this file from the repository root.
#   parse_stages LAST_STAGE "$@"   sets stage, stop_stage (from --stage N, --stop-stage N) and overrides
#                                  (KEY=VALUE arguments, for recipes that pass them to the trainer)
#   no_overrides                   for recipes that take no KEY=VALUE arguments
#   run_stage N NAME COMMAND...    runs COMMAND unless N is outside the range or $W/.done.N exists
parse_stages() {
  stop_stage=$1; shift
  stage=1; overrides=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --stage) stage=$2; shift 2 ;;
      --stop-stage) stop_stage=$2; shift 2 ;;
      *=*) overrides+=("$1"); shift ;;
      *) echo "unknown option $1" >&2; exit 2 ;;
    esac
  done
}

no_overrides() {
  if [ ${#overrides[@]} -gt 0 ]; then echo "unknown option ${overrides[0]}" >&2; exit 2; fi
}

run_stage() {
  local n=$1 name=$2; shift 2
  if [ "$n" -lt "$stage" ] || [ "$n" -gt "$stop_stage" ]; then return; fi
  if [ -f "$W/.done.$n" ]; then echo "stage $n ($name): done before"; return; fi
  echo "== stage $n: $name ($(date -u +%H:%M:%S))"
  "$@"
  touch "$W/.done.$n"
}
