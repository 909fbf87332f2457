"""Does the installed llama.cpp build run on this machine? One short generation in a child process.

llama-cpp-python is compiled for a CPU. A build that uses instructions this machine cannot execute (AMX tile
kernels on a virtual machine that advertises AMX but faults on it, AVX-512 moved to an AMD host without it) dies
with SIGILL and takes its process with it: a server would die at its first question. So before a process loads a
GGUF with llama.cpp, a child process loads it and generates a few tokens from a prompt long enough to go through
the batched matrix kernels; a crash there becomes an error that says what failed and what to do.

A passing check is remembered per CPU, per llama.cpp build and per model file (`<models dir>/.build-check.json`),
so it costs a model load once per machine and build, not at every start. Failures are never remembered.

Run as `python -m rag.generation.build_check MODEL.gguf [THREADS]` it is the child itself: it prints one JSON line.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from rag.core.errors import ModelError

# About 120 tokens: prompt evaluation then runs batched matrix multiplications, where the SIGILL showed.
PROMPT = (
    "Read the passage and answer in one short sentence.\n\nPassage: The harbour crane was inspected on "
    "14 March 2024 by Ingrid Solheim. Crane inspections are repeated every 90 days, and the report is filed "
    "with the port authority within a week. The cafeteria on level 2 serves lunch between 11:30 and 13:30; "
    "vegetarian dishes are offered every day, and the fire drill happens every second Tuesday at the north "
    "gate.\n\nQuestion: Who inspected the harbour crane?\nAnswer:"
)
MAX_TOKENS = 8
REBUILD_HINT = (
    "rebuild llama-cpp-python for this machine: rm -rf ~/.cache/rag/llama-wheels .venv/.setup-* && "
    "./scripts/setup.sh (LLAMA_CMAKE_ARGS='-DGGML_NATIVE=OFF' gives a portable build)"
)


class BuildCheckFailed(ModelError):
    """The llama.cpp build crashed or failed in a test generation: it cannot serve answers on this machine."""


def check_llama_build(
    model_path: Path, threads: int = 2, timeout_s: float = 300, cache_file: Path | None = None, argv: list[str] | None = None
) -> dict:
    """Generate a few tokens with `model_path` in a child process; its report, or BuildCheckFailed with the reason.

    `cache_file` remembers a pass for this CPU, build and model. `argv` replaces the child's command (tests)."""
    key = build_key(model_path)
    if cache_file is not None and argv is None:
        passed = _read(cache_file).get(key)
        if passed:
            return dict(passed, cached=True)
    command = argv or [sys.executable, "-m", "rag.generation.build_check", str(model_path), str(threads)]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout_s, env=dict(os.environ, PYTHONFAULTHANDLER="1")
        )
    except subprocess.TimeoutExpired as exc:
        raise BuildCheckFailed(
            f"llama.cpp did not finish a {MAX_TOKENS}-token test generation in {timeout_s:.0f} s "
            f"with {Path(model_path).name}: the build may not run well on this machine; "
            f"{REBUILD_HINT}"
        ) from exc
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise BuildCheckFailed(describe_failure(proc.returncode, proc.stderr, Path(model_path).name))
    try:
        report = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        raise BuildCheckFailed(f"the llama.cpp test generation printed no report: {proc.stdout[-300:]!r}") from exc
    report = dict(report, seconds=round(seconds, 2), cpu=cpu_model())
    if cache_file is not None and argv is None:
        _write(cache_file, key, report)
    return dict(report, cached=False)


def smallest_generator(status: list[dict]) -> Path | None:
    """The smallest verified GGUF generator of a registry's `status()` (the 0.5B when assembled): the cheapest
    model that exercises the build."""
    ggufs = [
        Path(m["path"]) for m in status if m["kind"] == "generator" and m["verified"] and m.get("path", "").endswith(".gguf")
    ]
    return min(ggufs, key=lambda p: p.stat().st_size) if ggufs else None


def describe_failure(returncode: int, stderr: str, model: str) -> str:
    """One line: what the child died of, and what to do."""
    if returncode < 0:
        sig = signal.Signals(-returncode)
        what = {
            signal.SIGILL: "SIGILL (illegal instruction): this llama.cpp build uses CPU instructions that this "
            f"machine ({cpu_model()}) cannot execute",
            signal.SIGSEGV: "SIGSEGV (segmentation fault)",
            signal.SIGKILL: "SIGKILL (killed: out of memory?)",
        }.get(sig, sig.name)
        return f"llama.cpp crashed in a test generation with {model}: {what}; {REBUILD_HINT}"
    tail = " | ".join(line.strip() for line in stderr.strip().splitlines()[-3:])
    if "Illegal instruction" in stderr:
        return f"llama.cpp crashed in a test generation with {model}: illegal instruction on {cpu_model()}; {REBUILD_HINT}"
    return f"llama.cpp failed a test generation with {model} (exit code {returncode}): {tail}"


def build_key(model_path: Path) -> str:
    """This CPU's flags, the llama.cpp libraries' identity (path, size, mtime) and the model file's identity."""
    parts = [cpu_flags()]
    try:
        import llama_cpp

        lib = Path(llama_cpp.__file__).parent / "lib"
        parts += sorted(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in lib.glob("*") if p.is_file())
    except ImportError:
        parts.append("no-llama-cpp")
    st = Path(model_path).stat()
    parts.append(f"{Path(model_path).resolve()}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def cpu_flags() -> str:
    for line in _cpuinfo().splitlines():
        if line.startswith(("flags", "Features")):
            return line.split(":", 1)[1].strip()
    return ""


def cpu_model() -> str:
    for line in _cpuinfo().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    import platform

    return platform.processor() or platform.machine()


def _cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _write(path: Path, key: str, report: dict) -> None:
    data = _read(path)
    data[key] = report
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only models dir: the check simply runs again next time


def _child(model: str, threads: int) -> None:
    from llama_cpp import Llama

    t0 = time.perf_counter()
    llm = Llama(model_path=model, n_ctx=512, n_threads=threads, n_batch=512, verbose=False, seed=0)
    loaded = time.perf_counter()
    out = llm.create_completion(PROMPT, max_tokens=MAX_TOKENS, temperature=0.0, stream=False)
    assert isinstance(out, dict)
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "model": Path(model).name,
                "text": out["choices"][0]["text"],
                "prompt_tokens": out["usage"]["prompt_tokens"],
                "completion_tokens": out["usage"]["completion_tokens"],
                "load_s": round(loaded - t0, 2),
                "generate_s": round(done - loaded, 2),
            }
        )
    )


if __name__ == "__main__":
    _child(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2)
