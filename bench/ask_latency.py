"""Question-answering latency over the sample documents: retrieval, generation, prompt size, decode speed.

Ingests examples/ (regenerated if missing) into a temporary data dir once, then for each generator model
builds its own Services, warms it up (services.warm_up(): embedder, generator, index), and asks a fixed
list of questions about the examples. Per model it reports the median retrieval ms, generation ms,
prompt tokens, decode tokens/s and total ms (from answer.timings_ms), plus a per-question table.

Decode speed: the service's timings_ms["tokens_per_s"] is reported as given ("svc tok/s"), but it is
computed from llama.cpp's cumulative prompt-time counter and is meaningless from the second call on
(values above 10,000 tok/s are shown as "-" and counted as invalid). Beside it the benchmark measures
prefill and decode rates itself from the llama.cpp counters before/after each call ("decode tok/s").

Note: llama.cpp reuses the longest common prompt prefix of the previous call (system prompt + worked
example), so the first question of a model pays the full prefill and later ones mostly the sources.

On an index of your own (the FinanceBench-dev one, say) with its questions, each line a JSON object with
"question" (and "answer", the expected text, if known):
      .venv/bin/python bench/ask_latency.py --data-dir DIR --questions FILE.jsonl --limit 12
Per question it also shows where the prompt's tokens went (fixed part: rules, examples, template; sources;
question; reused from the previous question's state) and the time to the first token; the summary gives p50/p95.

Run:  .venv/bin/python bench/ask_latency.py [--model NAME|both] [--limit N] [-k 5]
Writes bench/out/ask_latency.json. Reports timings only; it never fails because something was slow.
"""

import argparse
import gc
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (  # noqa: E402
    contains_answer,
    env_info,
    examples_dir,
    llama_perf,
    median,
    peak_rss_mib,
    perf_delta,
    resolve_models,
    service_tps,
    services_for,
    setup_env,
    table,
    write_result,
)

# (question, a string the right answer contains: a sanity check, not the point of this benchmark)
QUESTIONS = [
    ("How many days of paid annual leave does an employee get per year?", "25"),
    ("What is the daily meal allowance on business trips within Europe?", "55"),
    ("What are the core working hours?", "10:00"),
    ("What was the electricity output of Fjordvik hydro in Q4 2024?", "455"),
    ("Where is the fire assembly point?", "north parking lot"),
    ("How many unused leave days can be carried over into the next year?", "5"),
    ("For how many weeks is parental leave paid at full salary?", "16"),
    ("Which class may be booked on flights longer than 6 hours?", "premium economy"),
]


def _int(v):
    return None if v is None else int(v)


def ingest_examples(data_dir: Path, tmp: Path) -> dict:
    from ingest.pipeline import Ingestor

    services = services_for(data_dir)
    t0 = time.perf_counter()
    report = Ingestor(services).ingest_paths([examples_dir(tmp)])
    data = report.as_dict()
    data["wall_s"] = round(time.perf_counter() - t0, 2)
    if not report.ok:
        raise SystemExit(f"ingesting the examples failed: {[(f.path, f.reason) for f in report.failed]}")
    return data


def percentile(values: list, q: float) -> float | None:
    """The q-th percentile (nearest rank) of the values that are not None."""
    vals = sorted(v for v in values if v is not None)
    if not vals:
        return None
    return vals[min(len(vals) - 1, max(0, round(q / 100 * len(vals) + 0.5) - 1))]


def load_questions(path: Path) -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [(r["question"], str(r.get("answer") or "")) for r in rows]


def run_model(model: str, data_dir: Path, questions: list, k: int | None) -> dict:
    services = services_for(data_dir, model)
    t0 = time.perf_counter()
    services.warm_up()
    warm_s = time.perf_counter() - t0
    rows = []
    for q, expected in questions:
        before = llama_perf(services.generator)
        t = time.perf_counter()
        ans = services.ask(q, k)
        wall_ms = (time.perf_counter() - t) * 1000
        perf = perf_delta(before, llama_perf(services.generator))
        tm = ans.timings_ms
        rows.append(
            {
                "question": q,
                "expected": expected,
                "answer": ans.answer,
                "contains_expected": contains_answer(ans.answer, expected),
                "citations": [f"{c.doc} p.{c.page}" for c in ans.citations],
                "retrieval_ms": tm.get("retrieval_ms"),
                "first_token_ms": tm.get("first_token_ms"),
                "generation_ms": tm.get("generation_ms"),
                "fixed_tokens": _int(tm.get("prompt_fixed_tokens")),
                "sources_tokens": _int(tm.get("prompt_sources_tokens")),
                "question_tokens": _int(tm.get("prompt_question_tokens")),
                "cached_tokens": _int(tm.get("prompt_cached_tokens")),
                "retries": _int(tm.get("retries", 0)),
                "prompt_tokens": _int(tm.get("prompt_tokens")),
                "completion_tokens": _int(tm.get("completion_tokens")),
                "svc_tokens_per_s": tm.get("tokens_per_s"),
                "svc_tokens_per_s_valid": service_tps(tm.get("tokens_per_s")) is not None,
                **perf,
                "total_ms": tm.get("total_ms", wall_ms),
                "wall_ms": round(wall_ms, 1),
            }
        )
    summary = {
        "model": model,
        "sha256": services.generator.sha256,
        "warm_up_s": round(warm_s, 2),
        "questions": len(rows),
        "median_retrieval_ms": median(r["retrieval_ms"] for r in rows),
        "median_generation_ms": median(r["generation_ms"] for r in rows),
        "median_prompt_tokens": median(r["prompt_tokens"] for r in rows),
        "median_completion_tokens": median(r["completion_tokens"] for r in rows),
        "median_svc_tokens_per_s": median(service_tps(r["svc_tokens_per_s"]) for r in rows),
        "svc_tokens_per_s_invalid": sum(not r["svc_tokens_per_s_valid"] for r in rows),
        "median_decode_tok_s": median(r["decode_tok_s"] for r in rows),
        "median_prefill_tok_s": median(r["prefill_tok_s"] for r in rows),
        "median_prefill_tokens": median(r["prefill_tokens"] for r in rows),
        "median_total_ms": median(r["total_ms"] for r in rows),
        "p95_total_ms": percentile([r["total_ms"] for r in rows], 95),
        "median_first_token_ms": median(r["first_token_ms"] for r in rows),
        "p95_first_token_ms": percentile([r["first_token_ms"] for r in rows], 95),
        "median_fixed_tokens": median(r["fixed_tokens"] for r in rows),
        "median_sources_tokens": median(r["sources_tokens"] for r in rows),
        "median_question_tokens": median(r["question_tokens"] for r in rows),
        "median_cached_tokens": median(r["cached_tokens"] for r in rows),
        "retries": sum(r["retries"] or 0 for r in rows),
        "contains_expected": sum(r["contains_expected"] for r in rows),
        "peak_rss_after": peak_rss_mib(),
    }
    del services
    gc.collect()
    return {"summary": summary, "questions": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--model", default=None, help="generator model name, comma-separated names, or 'both' (default: the settings default)"
    )
    ap.add_argument("--limit", type=int, default=None, help=f"ask only the first N of the {len(QUESTIONS)} questions")
    ap.add_argument("-k", type=int, default=None, help="sources per question (default: settings top_k)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary data dir (prints its path)")
    ap.add_argument("--data-dir", type=Path, default=None, help="ask over this existing index instead of the examples")
    ap.add_argument("--questions", type=Path, default=None, help="JSON lines with question (and answer) to ask instead")
    args = ap.parse_args()
    setup_env()
    models = resolve_models(args.model)
    questions = load_questions(args.questions) if args.questions else QUESTIONS
    questions = questions[: args.limit] if args.limit else questions

    tmp = Path(tempfile.mkdtemp(prefix="bench-ask-"))
    try:
        if args.data_dir:
            data_dir, ing = args.data_dir, {"data_dir": str(args.data_dir)}
            print(f"index {data_dir}; {len(questions)} questions, models: {', '.join(models)}")
        else:
            data_dir = tmp / "data"
            ing = ingest_examples(data_dir, tmp)
            print(
                f"ingested {ing['counts']['ok']} files, {ing['pages']} pages, {ing['chunks']} chunks "
                f"in {ing['wall_s']:.1f}s; {len(questions)} questions, models: {', '.join(models)}"
            )
        results = []
        for model in models:
            print(f"\n== {model}: warming up ...", flush=True)
            res = run_model(model, data_dir, questions, args.k)
            results.append(res)
            print(
                table(
                    [
                        "#",
                        "retr ms",
                        "first tok ms",
                        "gen ms",
                        "prompt tok",
                        "fixed/src/q/cached",
                        "prefilled",
                        "prefill tok/s",
                        "out tok",
                        "decode tok/s",
                        "svc tok/s",
                        "total ms",
                        "ok",
                        "answer",
                    ],
                    [
                        [
                            i,
                            r["retrieval_ms"],
                            r["first_token_ms"],
                            r["generation_ms"],
                            r["prompt_tokens"],
                            f"{r['fixed_tokens']}/{r['sources_tokens']}/{r['question_tokens']}/{r['cached_tokens']}",
                            r["prefill_tokens"],
                            r["prefill_tok_s"],
                            r["completion_tokens"],
                            r["decode_tok_s"],
                            service_tps(r["svc_tokens_per_s"]),
                            r["total_ms"],
                            "y" if r["contains_expected"] else "n",
                            " ".join(r["answer"].split())[:60],
                        ]
                        for i, r in enumerate(res["questions"], 1)
                    ],
                    title=f"warm-up {res['summary']['warm_up_s']:.1f}s",
                )
            )

        print()
        print(
            table(
                [
                    "model",
                    "n",
                    "retrieval ms",
                    "generation ms",
                    "first tok p50/p95 ms",
                    "total p95 ms",
                    "prompt tok",
                    "fixed/src/q/cached",
                    "decode tok/s",
                    "svc tok/s",
                    "svc invalid",
                    "prefill tok/s",
                    "total ms",
                    "expected",
                    "peak RSS MiB",
                ],
                [
                    [
                        s["model"],
                        s["questions"],
                        s["median_retrieval_ms"],
                        s["median_generation_ms"],
                        f"{s['median_first_token_ms']}/{s['p95_first_token_ms']}",
                        s["p95_total_ms"],
                        s["median_prompt_tokens"],
                        f"{s['median_fixed_tokens']}/{s['median_sources_tokens']}/{s['median_question_tokens']}/"
                        f"{s['median_cached_tokens']}",
                        s["median_decode_tok_s"],
                        s["median_svc_tokens_per_s"],
                        s["svc_tokens_per_s_invalid"],
                        s["median_prefill_tok_s"],
                        s["median_total_ms"],
                        f"{s['contains_expected']}/{s['questions']}",
                        s["peak_rss_after"]["self_mib"],
                    ]
                    for s in (r["summary"] for r in results)
                ],
                title="Ask latency (medians per model; peak RSS is the process peak so far)",
            )
        )
        rss = peak_rss_mib()
        print(f"\npeak RSS: self {rss['self_mib']:.0f} MiB, children {rss['children_mib']:.0f} MiB")
        data = {
            "benchmark": "ask_latency",
            "params": {
                "models": models,
                "questions": len(questions),
                "k": args.k,
                "data_dir": str(args.data_dir) if args.data_dir else None,
                "question_file": str(args.questions) if args.questions else None,
            },
            "ingest": ing,
            "results": results,
            "peak_rss": rss,
            "env": env_info(),
        }
        print(f"wrote {write_result('ask_latency', data)}")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
