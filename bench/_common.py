"""Shared helpers for the benchmark scripts: paths, environment, memory, tables, JSON results.

Every script in bench/ inserts the repository root into sys.path itself and then imports this module
as `bench._common`. Nothing here asserts anything about timings: benchmarks report, they never fail
because something was slow.
"""

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "bench" / "out"
DEFAULT_MODELS_DIR = ROOT / "var" / "models"
MODELS = ["qwen2.5-coder-0.5b-instruct-q4_k_m", "qwen2.5-coder-1.5b-instruct-q4_k_m"]

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def setup_env() -> Path:
    """Point the service at the assembled models (RAG_MODELS_DIR) unless the caller already did; quiet logs."""
    os.environ.setdefault("RAG_MODELS_DIR", str(DEFAULT_MODELS_DIR))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    return Path(os.environ["RAG_MODELS_DIR"])


def _kib_to_mib(v: int) -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS.
    return round(v / (1024 * 1024) if sys.platform == "darwin" else v / 1024, 1)


def peak_rss_mib() -> dict:
    """Peak resident set size of this process and of its waited-for children, in MiB."""
    return {
        "self_mib": _kib_to_mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss),
        "children_mib": _kib_to_mib(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss),
    }


def median(values) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def env_info() -> dict:
    """What the numbers were measured on (so results from different machines are not compared blindly)."""
    try:
        commit = (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
            ).stdout.strip()
            or None
        )
    except Exception:  # noqa: BLE001 - informative only
        commit = None
    from rag.generation.build_check import cpu_flags, cpu_model

    flags = cpu_flags().split()
    isa = [
        f
        for f in ("avx2", "fma", "f16c", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16")
        if f in flags
    ]
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": cpu_model(),
        "cpu_isa": " ".join(isa),
        "cpu_count": os.cpu_count(),
        "git_commit": commit,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "models_dir": os.environ.get("RAG_MODELS_DIR"),
    }


def table(headers: list[str], rows: list[list], title: str | None = None) -> str:
    """A plain-text table (numbers right-aligned)."""

    def fmt(v):
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:,.2f}" if abs(v) < 100 else f"{v:,.1f}" if abs(v) < 10000 else f"{v:,.0f}"
        return str(v)

    cells = [[fmt(v) for v in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    numeric = [all(isinstance(r[i], (int, float)) or r[i] is None for r in rows) for i in range(len(headers))]

    def line(vals):
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(vals, widths, numeric)).rstrip()

    out = []
    if title:
        out.append(title)
    out.append(line(headers))
    out.append("  ".join("-" * w for w in widths))
    out += [line(r) for r in cells]
    return "\n".join(out)


def write_result(name: str, data: dict) -> Path:
    """Write bench/out/NAME.json (bench/out is gitignored)."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    env = data.get("env") or {}
    if env.get("cpu_model"):  # every number is read next to the machine it was measured on
        print(f"machine: {env['cpu_model']}, {env.get('cpu_count')} CPUs ({env.get('cpu_isa')}); wrote {path}")
    return path


def examples_dir(tmp: Path) -> Path:
    """The sample documents in examples/, regenerated into `tmp` if the folder is missing or empty."""
    ex = ROOT / "examples"
    if ex.is_dir() and any(ex.iterdir()):
        return ex
    from scripts import make_examples  # namespace package: scripts/ has no __init__.py

    out = Path(tmp) / "examples"
    make_examples.OUT = out
    make_examples.main()
    return out


def services_for(data_dir: Path, model: str | None = None):
    """A fresh Services over `data_dir`, optionally with another generator model."""
    from rag.core.settings import Settings
    from rag.service.services import Services

    kw = {"data_dir": Path(data_dir)}
    if model:
        kw["generator"] = {"model": model}
    return Services(Settings(**kw))


def resolve_models(arg: str | None) -> list[str]:
    """--model: a name, a comma-separated list, or 'both' (the two packaged generators)."""
    from rag.core.settings import Settings

    if not arg or arg == "default":
        return [Settings().generator.model]
    if arg == "both":
        return list(MODELS)
    return [m.strip() for m in arg.split(",") if m.strip()]


def contains_answer(answer: str, expected: str) -> bool:
    """Case-insensitive containment; a number must match exactly ('5' is not found in '25' or '5.5')."""
    import re

    answer = " ".join(answer.split()).lower()
    expected = " ".join(expected.split()).lower()
    if any(ch.isdigit() for ch in expected):
        pattern = r"(?<![\d.,:])" + re.escape(expected) + r"(?![\d]|[.,:]\d)"
        return re.search(pattern, answer) is not None
    return expected in answer


# ---- llama.cpp perf counters ----------------------------------------------------------------------
# llama.cpp's context perf counters (t_p_eval_ms, t_eval_ms, n_p_eval, n_eval) are cumulative since the
# context was created, so one call's prefill and decode come from the difference before/after that call.
# The service's own timings_ms["tokens_per_s"] subtracts the *cumulative* prompt time from one call's
# total; from the second call on that can exceed the call itself and the value is meaningless. The
# benchmarks report it as the service gives it, flag it, and add the counter-delta numbers beside it.

SVC_TPS_MAX = 10_000  # a service tokens_per_s above this is an artefact of the cumulative counter


def llama_perf(generator) -> dict | None:
    """A snapshot of the generator's llama.cpp counters, None when unavailable (another backend)."""
    try:
        import llama_cpp

        d = llama_cpp.llama_perf_context(generator._llm._ctx.ctx)
        return {f: float(getattr(d, f)) for f in ("t_p_eval_ms", "t_eval_ms", "n_p_eval", "n_eval")}
    except Exception:  # noqa: BLE001 - informative only
        return None


def perf_delta(before: dict | None, after: dict | None) -> dict:
    """Prefill and decode tokens, ms and tokens/s of one call, from two counter snapshots."""
    if not before or not after:
        return {
            "prefill_tokens": None,
            "prefill_ms": None,
            "prefill_tok_s": None,
            "decode_tokens": None,
            "decode_ms": None,
            "decode_tok_s": None,
        }
    pt, pm = after["n_p_eval"] - before["n_p_eval"], after["t_p_eval_ms"] - before["t_p_eval_ms"]
    dt, dm = after["n_eval"] - before["n_eval"], after["t_eval_ms"] - before["t_eval_ms"]
    return {
        "prefill_tokens": int(pt),
        "prefill_ms": round(pm, 1),
        "prefill_tok_s": round(pt / (pm / 1000), 2) if pm > 0 else None,
        "decode_tokens": int(dt),
        "decode_ms": round(dm, 1),
        "decode_tok_s": round(dt / (dm / 1000), 2) if dm > 0 else None,
    }


def service_tps(value) -> float | None:
    """The service's tokens_per_s, or None when it is the cumulative-counter artefact."""
    return value if value is not None and 0 < value <= SVC_TPS_MAX else None
