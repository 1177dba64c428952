#!/usr/bin/env bash
# The tests: sets up .venv on first use, lints, then runs the whole suite (what CI runs).
#   bash scripts/test.sh            ruff, then every test (slow ones included)
#   bash scripts/test.sh --fast     ruff, then the tests not marked `slow` (each under 3 s; all in under 3 minutes)
# Other arguments go to pytest, e.g. `bash scripts/test.sh --fast -x plugins/zoo-vae`.
# The tests run in one process per CPU (pytest-xdist, a module's tests together: `--dist loadscope`);
# ZOO_TEST_WORKERS=0 runs them in this process instead (for a debugger, or `-x` on the first failure).
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
WORKERS=(-n "${ZOO_TEST_WORKERS:-auto}" --dist loadscope)
if [ "${ZOO_TEST_WORKERS:-auto}" = 0 ]; then
  WORKERS=()
fi
if [ "$FAST" = 1 ]; then
  python -m pytest "${WORKERS[@]}" -m "not slow" "$@"
else
  python -m pytest "${WORKERS[@]}" "$@"
fi
