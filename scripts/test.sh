#!/usr/bin/env bash
# One command: set everything up (idempotent), install the programs the tests drive, then run the whole test suite
# on the real models.
set -euo pipefail
cd "$(dirname "$0")/.."
export RAG_MODELS_DIR="${RAG_MODELS_DIR:-$PWD/var/models}"
bash scripts/setup.sh
bash scripts/test-tools.sh
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
