#!/usr/bin/env bash
# Build autograder.zip for Gradescope from this checkout:
#   instructors/gradescope/build.sh [OUT.zip]     (default: autograder.zip in the current folder)
#   PYTHON=/path/to/python build.sh ...           the Python that writes the zip (default: python3)
#
# The zip holds setup.sh and run_autograder at the top and, in async-kata/, only what grading needs,
# picked from the files git tracks (so no .git, .venv or .kata), as they are now in this folder:
#   grade.py conftest.py pyproject.toml points.toml README.md   the entry point, settings, install
#   kata/                                                       the grader
#   tests/test_NN_*.py hints/NN_*.md exercises/NN_*.py          the tests, task titles, stubs
# Nothing else: a submission's code runs on the machine that holds these files, so solutions/, the
# right answers in tests/variants/ok_*.py, the harness's own tests, bench/ and instructors/ stay out.
# As a last check, the build fails if any file in the zip is byte for byte a reference solution or an
# ok_ variant.

GRADING_FILES=(
    ':(glob)grade.py' ':(glob)conftest.py' ':(glob)pyproject.toml' ':(glob)points.toml' ':(glob)README.md'
    ':(glob)kata/**'
    ':(glob)tests/test_[0-9][0-9]_*.py' ':(glob)hints/[0-9][0-9]_*.md' ':(glob)exercises/[0-9][0-9]_*.py'
)

fail() {
    printf 'build.sh: %s\n' "$*" >&2
    exit 1
}

main() {
    set -euo pipefail
    local here repo out stage
    here="$(cd "$(dirname "$0")" && pwd)"
    repo="$(cd "$here/../.." && pwd)"
    out="$(realpath -m "${1:-autograder.zip}")"
    git -C "$repo" rev-parse --git-dir >/dev/null 2>&1 ||
        fail "$repo is not a git checkout: the zip is made of the files git tracks"
    stage="$(mktemp -d)"
    # shellcheck disable=SC2064 # $stage is meant to be expanded now
    trap "rm -rf '$stage'" EXIT
    mkdir "$stage/async-kata"
    git -C "$repo" ls-files -z -- "${GRADING_FILES[@]}" |
        tar -C "$repo" --null --files-from=- -cf - |
        tar -x -C "$stage/async-kata"
    cp "$here/setup.sh" "$here/run_autograder" "$stage/"
    chmod 755 "$stage/setup.sh" "$stage/run_autograder"

    # The last check: no right answer in the zip, whatever its name or place.
    local -A answers=()
    local file sum leaks=()
    while IFS= read -r -d '' file; do
        sum="$(sha256sum <"$file")"
        answers[${sum%% *}]=${file#"$repo"/}
    done < <(find "$repo/solutions" "$repo/tests/variants" -name '*.py' \
        \( -path "$repo/solutions/*" -o -name 'ok_*' \) -print0 2>/dev/null)
    while IFS= read -r -d '' file; do
        sum="$(sha256sum <"$file")"
        if [[ -n ${answers[${sum%% *}]:-} ]]; then
            leaks+=("${file#"$stage"/} (same as ${answers[${sum%% *}]})")
        fi
    done < <(find "$stage" -type f -print0)
    ((${#leaks[@]} == 0)) || fail "not building: the zip would hold right answers: ${leaks[*]}"

    rm -f "$out"
    (cd "$stage" && "${PYTHON:-python3}" -m zipfile -c "$out" setup.sh run_autograder async-kata)
    echo "wrote $out ($(find "$stage/async-kata" -type f | wc -l) files of the kata, no solutions)"
}

main "$@"; exit
