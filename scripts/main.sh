#!/usr/bin/env bash
# The main job on the embedded default: sets up .venv, starts a local Prefect server (UI on
# http://127.0.0.1:4200), serves every deployment, runs the sample pipeline on the bundled data,
# and keeps serving until Ctrl-C. `--once` runs the sample pipeline once and exits with its outcome.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/tradeloom up "$@"
