#!/usr/bin/env bash
# Build autograder.zip for Gradescope from this checkout: setup.sh and run_autograder at the top,
# the kata (tracked files only, so no .venv or .kata) in async-kata/.
#   instructors/gradescope/build.sh [OUT.zip]     (default: autograder.zip in the current folder)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$(realpath -m "${1:-autograder.zip}")"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/async-kata"
git -C "$repo" archive HEAD | tar -x -C "$stage/async-kata"
cp "$here/setup.sh" "$here/run_autograder" "$stage/"
chmod +x "$stage/setup.sh" "$stage/run_autograder"
rm -f "$out"
(cd "$stage" && python3 -m zipfile -c "$out" setup.sh run_autograder async-kata)
echo "wrote $out"
