#!/usr/bin/env bash
# A short GPU check: one 3-D baseline through the process sandbox; prints cases/s and peak
# memory. Runs (slower) on a CPU-only host too. Needs the project's .venv (make test or demo).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m bench.gpu_check "$@"
