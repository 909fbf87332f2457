"""Prefill and decode speed of llama.cpp builds on this machine: the installed one (the baseline) against others.

Each build is a folder of llama-cpp-python's shared libraries (`llama_cpp/lib` of an unpacked wheel, or a wheel
file, unpacked here). Every measurement runs in its own child process with LLAMA_CPP_LIB_PATH pointing at that
build, so a build that crashes (SIGILL) is reported as such and the others still run. Per build and model: a
warm-up call, then `--runs` calls of a ~480-token prompt (prefill tok/s) with 64 greedy tokens (decode tok/s),
medians; ratios against the first build (the installed one unless `--baseline` names another).

Run:  .venv/bin/python bench/llama_build.py --build portable=~/.cache/rag/llama-wheels/<key>/llama_cpp_python-*.whl
Writes bench/out/llama_build.json. Reports; never fails because something was slow.
"""

import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import MODELS, env_info, setup_env, table, write_result  # noqa: E402

PASSAGE = (
    "The harbour crane was inspected on 14 March 2024 by Ingrid Solheim. Crane inspections are repeated "
    "every 90 days, and the report is filed with the port authority within a week. "
)


def child(model: str, runs: int, threads: int) -> None:
    """In the child: load `model` with the build LLAMA_CPP_LIB_PATH points at; print prefill/decode tok/s."""
    import llama_cpp
    from llama_cpp import Llama

    llm = Llama(model_path=model, n_ctx=2048, n_threads=threads, verbose=False, seed=0)
    prompt = "Summarise the passages.\n\n" + PASSAGE * 12 + "\nSummary:"
    out = []
    for i in range(runs + 1):
        llm.reset()  # no prompt-cache reuse between runs: every run prefills the whole prompt
        llama_cpp.llama_perf_context_reset(llm._ctx.ctx)
        llm.create_completion(prompt, max_tokens=64, temperature=0.0)
        d = llama_cpp.llama_perf_context(llm._ctx.ctx)
        if i:  # the first call is a warm-up
            out.append(
                {
                    "prefill_tokens": d.n_p_eval,
                    "prefill_tok_s": d.n_p_eval / (d.t_p_eval_ms / 1000),
                    "decode_tok_s": d.n_eval / (d.t_eval_ms / 1000),
                }
            )
    print(
        json.dumps(
            {
                "prefill_tokens": out[0]["prefill_tokens"],
                "prefill_tok_s": statistics.median(r["prefill_tok_s"] for r in out),
                "decode_tok_s": statistics.median(r["decode_tok_s"] for r in out),
            }
        )
    )


def lib_dir(spec: str, tmp: Path) -> Path:
    """A build's library folder from a folder or a wheel (unpacked into `tmp`)."""
    path = Path(os.path.expanduser(glob.glob(os.path.expanduser(spec))[0] if glob.glob(os.path.expanduser(spec)) else spec))
    if path.suffix == ".whl":
        dest = tmp / path.stem
        with zipfile.ZipFile(path) as z:
            z.extractall(dest)
        path = dest / "llama_cpp" / "lib"
    return path


def measure(lib: Path | None, model: Path, runs: int, threads: int) -> dict:
    env = dict(os.environ)
    if lib is not None:
        env["LLAMA_CPP_LIB_PATH"] = str(lib)
    proc = subprocess.run(
        [sys.executable, __file__, "--child", str(model), "--runs", str(runs), "--threads", str(threads)],
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
    )
    if proc.returncode < 0:
        return {"error": f"crashed with signal {-proc.returncode}"}
    if proc.returncode:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--build",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="another build: a lib folder or a wheel file (glob allowed); repeatable",
    )
    ap.add_argument("--model", choices=MODELS + ["both"], default="both")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args.child, args.runs, args.threads)
    models_dir = setup_env()
    models = MODELS if args.model == "both" else [args.model]
    with tempfile.TemporaryDirectory() as tmp:
        builds = [("installed", None)] + [(b.split("=", 1)[0], lib_dir(b.split("=", 1)[1], Path(tmp))) for b in args.build]
        results = []
        for model in models:
            base = None
            for name, lib in builds:
                r = measure(lib, models_dir / f"{model}.gguf", args.runs, args.threads)
                base = base or (r if "error" not in r else None)
                results.append(dict(r, build=name, model=model, lib=str(lib) if lib else "installed"))
                if base and "error" not in r:
                    results[-1]["prefill_ratio"] = r["prefill_tok_s"] / base["prefill_tok_s"]
                    results[-1]["decode_ratio"] = r["decode_tok_s"] / base["decode_tok_s"]
                print(json.dumps(results[-1]), flush=True)
    rows = [
        [
            r["model"],
            r["build"],
            r.get("prefill_tokens"),
            r.get("prefill_tok_s"),
            r.get("prefill_ratio"),
            r.get("decode_tok_s"),
            r.get("decode_ratio"),
            r.get("error", ""),
        ]
        for r in results
    ]
    print(table(["model", "build", "prompt tok", "prefill tok/s", "x base", "decode tok/s", "x base", "error"], rows))
    write_result("llama_build", {"benchmark": "llama_build", "params": vars(args), "results": results, "env": env_info()})


if __name__ == "__main__":
    main()
