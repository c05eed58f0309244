#!/usr/bin/env bash
# Gradescope autograder setup: runs once, as root, when the autograder image is built. The zip (see
# build.sh) holds this file, run_autograder, and the kata in async-kata/; Gradescope unpacks it into
# /autograder/source.
#
# It installs what grading needs:
# - bubblewrap, the sandbox each submission's tests run in, and util-linux (setpriv, unshare) for
#   where user namespaces are not allowed;
# - Python 3.11 or newer: the image's python3 when it is new enough, else python3.11 from the
#   deadsnakes PPA (Gradescope's default image, Ubuntu 22.04, has 3.10);
# - the kata and its dependencies in /autograder/venv (an editable install: the grader runs from
#   /autograder/source/async-kata), compiled ahead so that no grading run writes bytecode.
# Then the kata and the virtualenv are made root's and read-only to everyone else: a submission's
# tests run as an unprivileged user, which must read them and must not be able to change them.
#
#   AUTOGRADER_ROOT   Gradescope's folder (default /autograder)

main() {
    set -euo pipefail
    local root="${AUTOGRADER_ROOT:-/autograder}"
    local kata="$root/source/async-kata"
    local venv="$root/venv"
    local python
    export DEBIAN_FRONTEND=noninteractive

    apt-get update -qq
    apt-get install -y -qq --no-install-recommends bubblewrap util-linux
    if python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        python=python3
    else
        apt-get install -y -qq software-properties-common
        add-apt-repository -y ppa:deadsnakes/ppa
        apt-get update -qq
        apt-get install -y -qq python3.11 python3.11-venv
        python=python3.11
    fi
    echo "setup.sh: grading with $("$python" --version) ($(command -v "$python"))"

    rm -rf "$venv"
    if ! "$python" -m venv "$venv"; then
        # Debian and Ubuntu ship venv's pip apart, in python3-venv.
        rm -rf "$venv"
        apt-get install -y -qq --no-install-recommends python3-venv
        "$python" -m venv "$venv"
    fi
    "$venv/bin/python" -m pip install --quiet --no-cache-dir -e "$kata"
    "$venv/bin/python" -m compileall -q "$kata/kata" # pip has compiled the dependencies

    # Root's, and read-only to everyone else (readable: the tests run as another user).
    chown -R root:root "$root/source" "$venv"
    chmod -R u+rwX,go+rX,go-w "$root/source" "$venv"
    chmod go-w "$root"
    if [[ -e $root/run_autograder ]]; then
        chown root:root "$root/run_autograder"
        chmod 755 "$root/run_autograder"
    fi
    echo "setup.sh: done"
}

main "$@"; exit
