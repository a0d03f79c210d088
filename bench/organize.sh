#!/usr/bin/env bash
# Organize for real and roll back, through the API (release build, embedded defaults),
# against a raw rename loop moving the same files into the same kind of folders and back,
# on the same generated tree. Checks that the rollback restores the tree byte for byte.
#
#   cargo build --release
#   bash bench/organize.sh [files]
#
# Prints files/s of each and Organizer's share of the raw rate.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
files=${1:-20000}
bin=${ORGANIZER_BIN:-${CARGO_TARGET_DIR:-$here/../target}/release/organizer}
work=$(mktemp -d /tmp/organizer-bench.XXXXXX)
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
port=18124
JWT_SECRET=$(python3 -c "import secrets; print(secrets.token_hex(32))") \
  "$bin" serve --bind 127.0.0.1:$port --workers 1 >server.log 2>&1 &
server=$!
api=http://127.0.0.1:$port/graphql
for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/ready >/dev/null && break; sleep 0.2; done
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
signup=$(curl -s $api -H 'content-type: application/json' \
  -d '{"query":"mutation { signup(input:{email:\"bench@example.com\",username:\"bench\",password:\"bench-password\"}) { accessToken user { id } } }"}')
token=$(echo "$signup" | json "d['data']['signup']['accessToken']")
user=$(echo "$signup" | json "d['data']['signup']['user']['id']")
space="$work/data/storage/users/$user"
python3 "$here/make_tree.py" "$space/tree" "$files"
total=$(find "$space/tree" -type f | wc -l)
digest() { (cd "$space" && find tree -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16); }
before=$(digest)
gql() { curl -s $api -H "Authorization: Bearer $token" -H 'content-type: application/json' -d "$1"; }

# Starts a mutation that returns an operation, waits for it to end; prints seconds.
timed() {
  local start end id status
  start=$(date +%s.%N)
  id=$(gql "$1" | json "list(d['data'].values())[0]['id']")
  while :; do
    status=$(gql "{\"query\":\"{ operation(id: \\\"$id\\\") { id status filesProcessed } }\"}")
    case "$status" in *COMPLETED*) break ;; *FAILED*|*CANCELLED*) echo "ended badly: $status" >&2; exit 1 ;; esac
    sleep 0.02
  done
  end=$(date +%s.%N)
  echo "$status" | json "d['data']['operation']['id']" >"$work/last.id"
  python3 -c "print($end - $start)"
}

organize=$(timed '{"query":"mutation { startOperation(input:{type: ORGANIZE, rootPath: \"tree\"}) { id } }"}')
organized=$(cat "$work/last.id")
rollback=$(timed "{\"query\":\"mutation { rollbackOperation(id: \\\"$organized\\\") { id } }\"}")
after=$(digest)
[ "$before" = "$after" ] || { echo "the rollback did not restore the tree ($before vs $after)" >&2; exit 1; }

# The baseline: os.rename of every file into a folder per extension, then back.
raw=$(python3 - "$space/tree" <<'PY'
import os, sys, time
root = sys.argv[1]
moves = []
for folder, _, names in os.walk(root):
    for name in names:
        ext = os.path.splitext(name)[1].lstrip(".").lower() or "none"
        moves.append((os.path.join(folder, name), os.path.join(root, "_raw_" + ext, name + "_" + str(len(moves)))))
for _, dst in moves:
    os.makedirs(os.path.dirname(dst), exist_ok=True)
start = time.perf_counter()
for src, dst in moves:
    os.rename(src, dst)
for src, dst in moves:
    os.rename(dst, src)
print((time.perf_counter() - start) / 2)
PY
)
rate() { python3 -c "print(round($total / $1))"; }
echo "files: $total; rollback restored the tree byte for byte"
echo "organize: $organize s, $(rate "$organize") files/s"
echo "rollback: $rollback s, $(rate "$rollback") files/s"
echo "raw rename loop (one direction): $raw s, $(rate "$raw") files/s"
echo "organize / raw: $(python3 -c "print(f'{$raw/$organize:.1%}')"), rollback / raw: $(python3 -c "print(f'{$raw/$rollback:.1%}')")"
