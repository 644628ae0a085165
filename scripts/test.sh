#!/usr/bin/env bash
# The whole test suite, offline: sets up .venv, then runs pytest (extra arguments go to pytest).
# The recorded vendor payloads are read from ../shared/fixtures beside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/python -m pytest "$@"
