#!/usr/bin/env bash
# The tests: sets up .venv on first use, then lints and runs the whole suite.
set -euo pipefail
source "$(dirname "$0")/venv.sh"
cd "$ROOT"
ruff check .
ruff format --check .
python -m pytest "$@"
