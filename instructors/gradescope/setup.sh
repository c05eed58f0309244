#!/usr/bin/env bash
# Gradescope autograder setup (runs once, as root, when the autograder image is built).
# The autograder zip holds this file, run_autograder, and the kata in async-kata/ (see build.sh).
set -euo pipefail
apt-get update -qq
apt-get install -y -qq software-properties-common
add-apt-repository -y ppa:deadsnakes/ppa
apt-get update -qq
apt-get install -y -qq python3.11 python3.11-venv
python3.11 -m venv /autograder/venv
/autograder/venv/bin/pip install --quiet -e /autograder/source/async-kata
