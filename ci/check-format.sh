#!/usr/bin/env bash
# clang-format 14 in check mode over every C source and header of the tree
# (the committed .clang-format): lists each file that differs from its
# formatted self and fails. Build directories and .git are skipped.
# Usage: ci/check-format.sh [--fix]   (--fix formats the files in place)
set -euo pipefail
cd "$(dirname "$0")/.."
cf=""
for c in clang-format-14 clang-format; do
    if command -v "$c" >/dev/null &&
        "$c" --version | grep -q 'version 14\.'; then
        cf=$c
        break
    fi
done
[ -n "$cf" ] || { echo "check-format: clang-format 14 not found (bash ci/deps.sh)" >&2; exit 2; }

mapfile -d '' files < <(find . \( -path ./build -o -path './build-*' -o \
    -path ./.git -o -path ./out \) -prune -o \( -name '*.c' -o -name '*.h' \) \
    -type f -print0 | sort -z)
[ ${#files[@]} -gt 0 ] || { echo "check-format: no C files found" >&2; exit 2; }
if [ "${1:-}" = --fix ]; then
    "$cf" -i "${files[@]}"
    echo "check-format: formatted ${#files[@]} files"
    exit 0
fi
bad=()
# One run over all (fast); file by file only to name the culprits.
if ! "$cf" --dry-run --Werror "${files[@]}" >/dev/null 2>&1; then
    for f in "${files[@]}"; do
        "$cf" --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
    done
fi
if [ ${#bad[@]} -gt 0 ]; then
    echo "check-format: ${#bad[@]} of ${#files[@]} files are not clang-format clean" \
        "(fix: bash ci/check-format.sh --fix, or clang-format -i FILE):" >&2
    printf '  %s\n' "${bad[@]}" >&2
    exit 1
fi
echo "check-format: ${#files[@]} files clang-format clean ($("$cf" --version | grep -o 'version [0-9.]*'))"
