"""Before/after table for fine-tuned answer models: the same held-out questions through `rag eval answers`.

Each variant is a generator model, optionally with a GGUF LoRA adapter; each question set is a questions
JSONL, its documents and a data directory (an index already built there is reused; unchanged files are not
re-ingested). Every (variant, set) runs `rag eval answers` in its own process with RAG_GENERATOR__MODEL and
RAG_GENERATOR__LORA_PATH set, so nothing is shared between runs but the files. Reported per run: citation
validity (answer sentences that passed the citation check / all the model wrote), refusal accuracy on
unanswerable questions, false refusals, answer accuracy (numbers within 1%, else token F1 >= 0.5 or all gold
tokens), cited-page precision, decoding tokens/s and latency p50.

Run:
  .venv/bin/python bench/finetune_compare.py \
     --variant base05=qwen2.5-coder-0.5b-instruct-q4_k_m \
     --variant tuned05=qwen2.5-coder-0.5b-instruct-q4_k_m+/path/adapter.gguf|/path/peft-adapter-dir \
     --set synthetic=QUESTIONS.jsonl,DOCS_DIR,DATA_DIR[,COLLECTION] [--set financebench=...] [--env KEY=VALUE] [--limit N]
Writes bench/out/finetune_compare.json and one report per run (bench/out/finetune_compare/<set>-<variant>.json).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import OUT_DIR, ROOT, env_info, setup_env  # noqa: E402
from rag.core.hashing import sha256_file  # noqa: E402


def run_one(
    variant: str, spec: str, qset: str, questions: str, docs: str, data: str, collection: str, extra_env: dict, limit: int | None
) -> dict:
    model, _, adapter = spec.partition("+")
    out = OUT_DIR / "finetune_compare" / f"{qset}-{variant}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    if adapter and Path(adapter).is_dir():  # a peft adapter folder: the same GGUF `rag finetune export` writes
        digest = sha256_file(Path(adapter) / "adapter_model.safetensors")[:12]
        adapter = str(gguf_of(Path(adapter), model, OUT_DIR / "finetune_compare" / f"{variant}-{digest}.gguf"))
    env = dict(os.environ, RAG_GENERATOR__MODEL=model, **extra_env)
    env.pop("RAG_GENERATOR__LORA_PATH", None)
    if adapter:
        env["RAG_GENERATOR__LORA_PATH"] = adapter
    cmd = [
        str(ROOT / ".venv" / "bin" / "rag"),
        "eval",
        "answers",
        "--questions",
        questions,
        "--docs",
        docs,
        "--data-dir",
        data,
        "--collection",
        collection,
        "--out",
        str(out),
    ] + (["--limit", str(limit)] if limit else [])
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        return {"set": qset, "variant": variant, "error": done.stderr.strip()[-800:]}
    report = json.loads(out.read_text())
    s = report["summary"]
    rows = [r for r in report["rows"] if not r.get("error")]
    tps = [r["timings_ms"].get("tokens_per_s") for r in rows if r["timings_ms"].get("tokens_per_s")]
    o = s["outcomes"]
    return {
        "set": qset,
        "variant": variant,
        "model": model,
        "adapter": adapter or None,
        "questions": s["questions"],
        "answerable": s["answerable"],
        "unanswerable": s["unanswerable"],
        "citation_validity": s.get("citation_validity"),
        "refusal_accuracy": s.get("refusal_accuracy"),
        "false_refusal_rate": s.get("false_refusal_rate"),
        "accuracy": s.get("accuracy"),
        "accuracy_when_answered": s.get("accuracy_when_answered"),
        "citation_precision": s.get("citation_precision"),
        "correct": o["answerable"]["answered_correct"],
        "wrong": o["answerable"]["answered_wrong"],
        "refused_answerable": o["answerable"]["refused"],
        "answered_unanswerable": o["unanswerable"]["answered_wrong"],
        "tokens_per_s": round(statistics.median(tps), 1) if tps else None,
        "total_ms_p50": s["latency_ms"].get("total_ms", {}).get("p50"),
        "wall_s": round(time.perf_counter() - t0, 1),
        "report": str(out),
    }


def gguf_of(adapter_dir: Path, model: str, out: Path) -> Path:
    """The peft adapter as a GGUF LoRA for llama.cpp (f16), so it can be evaluated before it is registered."""
    from rag.core.settings import Settings
    from rag.models.lora_export import export_lora
    from rag.models.registry import ModelRegistry

    if not out.is_file():
        export_lora(adapter_dir, ModelRegistry(Settings()).resolve(model).path, out, outtype="f16")
    return out


def table(rows: list[dict]) -> str:
    def f(v):
        return "-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)

    head = [
        "set",
        "variant",
        "citation validity",
        "refusal acc. (unanswerable)",
        "false refusals",
        "accuracy",
        "correct/wrong/refused",
        "page precision",
        "tok/s",
        "p50 ms",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        if r.get("error"):
            lines.append(f"| {r['set']} | {r['variant']} | error: {r['error'][-120:]} |")
            continue
        lines.append(
            "| "
            + " | ".join(
                [
                    r["set"],
                    r["variant"],
                    f(r["citation_validity"]),
                    f(r["refusal_accuracy"]),
                    f(r["false_refusal_rate"]),
                    f(r["accuracy"]),
                    f"{r['correct']}/{r['wrong']}/{r['refused_answerable']}",
                    f(r["citation_precision"]),
                    f(r["tokens_per_s"]),
                    f(r["total_ms_p50"]),
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variant", action="append", required=True, help="NAME=MODEL[+ADAPTER.gguf]")
    ap.add_argument("--set", action="append", required=True, help="NAME=QUESTIONS.jsonl,DOCS,DATA_DIR[,COLLECTION]")
    ap.add_argument("--env", action="append", default=[], help="KEY=VALUE for every run (e.g. the embedder backend)")
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args()
    setup_env()
    extra = dict(e.split("=", 1) for e in args.env)
    rows = []
    for s in args.set:
        qset, _, paths = s.partition("=")
        questions, docs, data, *rest = paths.split(",")
        for v in args.variant:
            name, _, spec = v.partition("=")
            rows.append(run_one(name, spec, qset, questions, docs, data, rest[0] if rest else "default", extra, args.limit))
            print(json.dumps(rows[-1]), flush=True)
    out = OUT_DIR / "finetune_compare.json"
    out.write_text(json.dumps({"env": env_info(), "runs": rows}, indent=1))
    print(table(rows))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
