#!/usr/bin/env bash
# CI job: clang-format (the repository's .clang-format: Google, 120 columns) on the C++ lines that changed.
#
# "Changed" means the lines a commit range added or modified, so the job never fails on files or lines
# nobody touched (about a third of the older files predate the format and are left as they are):
#   .ci/format-check.sh [BASE]   checks BASE..HEAD; BASE defaults to $ICLAB_FORMAT_BASE, else HEAD~1 (the
#                                last commit, what a fresh clone of main has just received).
# The committed text (git show HEAD:file) is checked, never the working tree, so uncommitted edits do
# not matter. Without a parent commit (the first commit, or a shallow clone that cannot be deepened)
# every line of HEAD counts as changed in a root commit, and a shallow clone checks nothing (it says so).
# Exit 1 lists each file with clang-format's complaints; fix them with `git clang-format BASE`.
set -euo pipefail
cd "$(dirname "$0")/.."

clang_format="${CLANG_FORMAT:-$(command -v clang-format-14 || command -v clang-format)}"
"$clang_format" --version

base="${1:-${ICLAB_FORMAT_BASE:-HEAD~1}}"
if ! git rev-parse --verify --quiet "$base^{commit}" >/dev/null; then
  if [ "$(git rev-parse --is-shallow-repository)" = true ]; then
    # A shallow clone: try to fetch the parent; without it nobody can tell what changed.
    if ! { timeout 120 git fetch --quiet --deepen=1 2>/dev/null && git rev-parse --verify --quiet "$base^{commit}" >/dev/null; }; then
      echo "format-check: $base is not in this shallow clone and cannot be fetched; nothing to check"
      exit 0
    fi
  elif [ "$base" = HEAD~1 ] && [ "$(git rev-list --parents -n 1 HEAD | wc -w)" -eq 1 ]; then
    base="$(git hash-object -t tree /dev/null)"  # HEAD is a root commit: all of it is new
    echo "format-check: HEAD has no parent; checking every line of HEAD"
  else
    echo "format-check: unknown base commit '$base'" >&2
    exit 2
  fi
fi

# Added or modified C++ files (deleted ones have nothing to check), NUL-separated.
mapfile -d '' files < <(git diff -z --name-only --diff-filter=AMRC "$base" HEAD -- \
  '*.cpp' '*.hpp' '*.h' '*.cc' '*.cxx' '*.hh')
echo "format-check: ${#files[@]} C++ file(s) changed in ${base}..HEAD"

failed=0
for file in "${files[@]}"; do
  # The changed line ranges of FILE in HEAD, from the zero-context diff's hunk headers "@@ -a,b +c,d @@".
  lines=()
  while read -r start count; do
    [ "$count" -eq 0 ] && continue  # a pure deletion leaves no line to check
    lines+=("--lines=$start:$((start + count - 1))")
  done < <(git diff -U0 --no-color "$base" HEAD -- "$file" |
    sed -n -E 's/^@@ -[0-9]+(,[0-9]+)? \+([0-9]+)(,([0-9]+))? @@.*/\2 \4/p' |
    awk '{ print $1, ($2 == "" ? 1 : $2) }')
  [ "${#lines[@]}" -eq 0 ] && continue
  if ! report=$(git show "HEAD:$file" | "$clang_format" --dry-run --Werror --assume-filename="$file" "${lines[@]}" 2>&1); then
    echo "format-check: $file is not formatted on the lines it changed:"
    echo "$report"
    failed=1
  fi
done
if [ "$failed" -ne 0 ]; then
  echo "format-check: FAILED (fix with: git clang-format $base)"
  exit 1
fi
echo "format-check: OK"
