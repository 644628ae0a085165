#!/usr/bin/env bash
# Create .venv (Python 3.11) and install the locked dependencies plus tradeloom itself.
# Idempotent: it does nothing when requirements.lock and pyproject.toml are unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PYTHON="$candidate"; break
    fi
  done
fi
if [ -z "$PYTHON" ]; then
  echo "tradeloom needs Python 3.11 (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi

stamp=.venv/.tradeloom-installed
want=$(cat requirements.lock pyproject.toml scripts/bootstrap.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

echo "installing locked dependencies into .venv"
.venv/bin/python -m pip install --quiet "uv==0.13.9"
# Compiled to bytecode once here: with PYTHONDONTWRITEBYTECODE set (as in many CI and container
# environments) every process would otherwise compile every module it imports (~4 s for Prefect).
.venv/bin/uv pip sync --quiet --compile-bytecode --python .venv/bin/python requirements.lock
.venv/bin/uv pip install --quiet --python .venv/bin/python --no-deps -e .
echo "$want" > "$stamp"
