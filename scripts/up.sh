#!/usr/bin/env bash
# One command: set everything up, ingest the sample documents in examples/, serve the API.
set -euo pipefail
cd "$(dirname "$0")/.."
export RAG_DATA_DIR="${RAG_DATA_DIR:-$PWD/var}"
export RAG_MODELS_DIR="${RAG_MODELS_DIR:-$PWD/var/models}"
bash scripts/setup.sh
echo "== ingesting examples/ into $RAG_DATA_DIR" >&2
.venv/bin/rag ingest examples/
echo "== serving on http://${RAG_HOST:-127.0.0.1}:${RAG_PORT:-8000} (docs at /docs)" >&2
exec .venv/bin/rag serve --host "${RAG_HOST:-127.0.0.1}" --port "${RAG_PORT:-8000}"
