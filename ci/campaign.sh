#!/usr/bin/env bash
# The main job: install what is missing, build (Release), and run the
# crash-consistency campaign. Until the crash-state explorer lands this runs
# the example program: create a file, allocate, reopen, print what it found.
# Usage: ci/campaign.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/deps.sh
jobs=$(nproc 2>/dev/null || echo 2)
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
./build/release/core/example_basic "$dir/example.mp"
