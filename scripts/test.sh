#!/usr/bin/env bash
# The tests: sets up .venv on first use, then lints and runs the whole suite.
set -euo pipefail
source "$(dirname "$0")/venv.sh"
cd "$ROOT"
ruff check --no-cache .  # no cache: a moved module can change how imports sort
ruff format --check --no-cache .
python -m pytest "$@"
