#!/usr/bin/env bash
# One command: set everything up (idempotent), run the fast check lane (format, lint, import contracts, types, unit
# tests), install the programs the slow tests drive, then the slow suites (integration, e2e) on the real models.
# With arguments, they go to pytest instead of the default run: ./scripts/test.sh tests/unit -x
set -euo pipefail
cd "$(dirname "$0")/.."
export RAG_MODELS_DIR="${RAG_MODELS_DIR:-$PWD/var/models}"
bash scripts/setup.sh
bash scripts/test-tools.sh
if [ $# -gt 0 ]; then
  exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
fi
bash scripts/check.sh
printf '\n== slow suites (integration, e2e), %d s after the start\n' "$SECONDS" >&2
exec .venv/bin/python -m pytest -q -p no:cacheprovider --durations=25 tests/integration tests/e2e  # the slowest named: the command must stay under 25 minutes
