#!/usr/bin/env bash
# Uploads every file under a local folder into a folder of your Organizer space, keeping
# sub-folders and each file's modified time. Any file name works (commas, semicolons,
# quotes, newlines): the GraphQL request is built with jq, and curl is given the file
# through a quoted form field.
#
#   API=http://127.0.0.1:8000/graphql TOKEN=<access token or API key> \
#     bash examples/upload.sh ~/Downloads inbox
#
# Prints one line per file (its path in your space) and exits non-zero if any upload
# failed, saying why.
set -euo pipefail

src=${1:?usage: upload.sh LOCAL_FOLDER TARGET_FOLDER}
target=${2:?usage: upload.sh LOCAL_FOLDER TARGET_FOLDER}
: "${API:?set API, e.g. http://127.0.0.1:8000/graphql}"
: "${TOKEN:?set TOKEN to an access token or API key}"
command -v jq >/dev/null || { echo "upload.sh needs jq" >&2; exit 2; }

query='mutation($path: String!, $files: [Upload!]!, $times: [DateTime]) {
  uploadFiles(path: $path, files: $files, modifiedAt: $times) { path }
}'
failed=0
cd "$src"
while IFS= read -r -d '' file; do
  rel=${file#./}
  dir=$(dirname "$rel")
  folder=$target
  [ "$dir" != . ] && folder="$target/$dir"
  name=$(basename "$rel")
  modified=$(date -u -d "@$(stat -c %Y "$file")" +%Y-%m-%dT%H:%M:%SZ)
  operations=$(jq -nc --arg query "$query" --arg path "$folder" --arg time "$modified" \
    '{query: $query, variables: {path: $path, files: [null], times: [$time]}}')
  # In curl's -F syntax a double-quoted file name may hold , and ; (with \ and " escaped).
  quoted=$(printf '%s' "$file" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')
  quoted_name=$(printf '%s' "$name" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')
  if ! answer=$(curl -sS "$API" -H "Authorization: Bearer $TOKEN" \
      --form-string "operations=$operations" \
      --form-string 'map={"0":["variables.files.0"]}' \
      -F "0=@\"$quoted\";filename=\"$quoted_name\""); then
    echo "FAILED $rel: could not reach $API" >&2
    failed=1
    continue
  fi
  if stored=$(jq -er '.data.uploadFiles[0].path' <<<"$answer" 2>/dev/null); then
    printf '%s\n' "$stored"
  else
    echo "FAILED $rel: $(jq -r '.errors[0] | "\(.extensions.code): \(.message)"' <<<"$answer" 2>/dev/null || echo "$answer")" >&2
    failed=1
  fi
done < <(find . -type f -print0)
exit $failed
