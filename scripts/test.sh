#!/usr/bin/env bash
# The tests: sets up .venv on first use, lints, then runs the whole suite (what CI runs).
#   bash scripts/test.sh            ruff, then every test (slow ones included)
#   bash scripts/test.sh --fast     ruff, then the tests not marked `slow` (each under 3 s; all in under 3 minutes)
# Other arguments go to pytest, e.g. `bash scripts/test.sh --fast -x plugins/zoo-vae`.
set -euo pipefail
FAST=0
if [ "${1:-}" = "--fast" ]; then
  FAST=1
  shift
fi
source "$(dirname "$0")/venv.sh"
cd "$ROOT"
ruff check --no-cache .  # no cache: a moved module can change how imports sort
ruff format --check --no-cache .
if [ "$FAST" = 1 ]; then
  python -m pytest -m "not slow" "$@"
else
  python -m pytest "$@"
fi
