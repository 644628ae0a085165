#!/usr/bin/env bash
# Build benchmarks/.venv: the project exactly as locked, installed editable, plus the frameworks
# the backtest benchmark compares against (benchmarks/requirements.txt). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x benchmarks/.venv/bin/python ]; then
    python3.11 -m venv benchmarks/.venv
fi
benchmarks/.venv/bin/pip install --quiet uv
benchmarks/.venv/bin/uv pip sync --python benchmarks/.venv/bin/python requirements.lock
benchmarks/.venv/bin/uv pip install --python benchmarks/.venv/bin/python --no-deps -e .
# the frameworks, holding numpy/numba at the project's locked versions
benchmarks/.venv/bin/uv pip install --python benchmarks/.venv/bin/python -r benchmarks/requirements.txt \
    "$(grep '^numpy==' requirements.lock)" "$(grep '^numba==' requirements.lock)" "$(grep '^pandas==' requirements.lock)"
benchmarks/.venv/bin/python -c "import backtrader, vectorbt, vectorbt_rust, numpy, numba; \
print('benchmarks/.venv ready: backtrader', backtrader.__version__, 'vectorbt', vectorbt.__version__, \
'numpy', numpy.__version__, 'numba', numba.__version__)"
