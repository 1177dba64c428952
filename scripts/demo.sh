#!/usr/bin/env bash
# The demo: sets up .venv on first use, serves our Hub on loopback, then downloads every model
# zoo trained and writes a grid of 64 samples of each to out/demo/NAME.png (--out to change).
set -euo pipefail
source "$(dirname "$0")/venv.sh"
python "$ROOT/scripts/demo.py" "$@"
