#!/usr/bin/env bash
# The fast check lane (about a minute): format, lint, import contracts, types, then the unit tests. The test command
# and CI run it before the slow suites; pre-commit runs the same checks (.pre-commit-config.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
if [ ! -x "$BIN/python" ]; then  # a git worktree has no venv of its own: use the main checkout's
    BIN="$(git rev-parse --path-format=absolute --git-common-dir)/../.venv/bin"
fi
PATHS=(rag ingest api tests bench scripts)
step() { printf '\n== %s\n' "$*" >&2; }
step "format (ruff format --check)"
"$BIN/ruff" format --check -q "${PATHS[@]}"
step "lint (ruff check)"
"$BIN/ruff" check -q "${PATHS[@]}"
step "import contracts (lint-imports, rules in pyproject.toml)"
"$BIN/lint-imports" --no-cache 2>&1 | grep -E "KEPT|BROKEN|Contracts:|^- " >&2
step "types (mypy rag ingest api)"
"$BIN/mypy" 2>&1 | tail -1 >&2
step "unit tests"
"$BIN/python" -m pytest -q -p no:cacheprovider tests/unit
