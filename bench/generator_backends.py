"""Generator backends compared: llama.cpp vs transformers on the same GGUF and the same short prompt.

Both load the verified GGUF (transformers dequantises it, or reads its cached dense checkpoint), run one
warm-up generation, then `--runs` greedy generations of `--max-tokens` tokens on one prompt. Reported per
backend (medians): load seconds, time to first piece, decode tokens/s (completion tokens over the time after
the first piece), total ms; then the ratio transformers / llama.cpp of decode tokens/s.
Optionally (`--endpoint URL`) an OpenAI-compatible endpoint is measured the same way.

Run:  .venv/bin/python bench/generator_backends.py [--model NAME] [--runs 3] [--max-tokens 64]
                                                   [--hf-cache-dir DIR] [--endpoint URL --endpoint-model NAME]
Writes bench/out/generator_backends.json. Reports numbers only; it never fails because something was slow.
"""

import argparse
import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import env_info, median, peak_rss_mib, setup_env, table, write_result  # noqa: E402

PROMPT = [
    {"role": "system", "content": "You are a concise assistant."},
    {"role": "user", "content": "Explain in a few sentences why the sky is blue."},
]


def measure(gen, runs: int, max_tokens: int) -> dict:
    t0 = time.perf_counter()
    gen.warm_up()
    load_s = time.perf_counter() - t0
    gen.generate(PROMPT, max_tokens=8)  # warm-up
    rows = []
    for _ in range(runs):
        g = gen.generate(PROMPT, max_tokens=max_tokens)
        decode_s = max(g.total_ms - g.first_token_ms, 1e-6) / 1000
        rows.append(
            {
                "first_ms": g.first_token_ms,
                "total_ms": g.total_ms,
                "completion_tokens": g.completion_tokens,
                "prompt_tokens": g.prompt_tokens,
                "decode_tok_s": max(g.completion_tokens - 1, 0) / decode_s,
                "text": g.text,
            }
        )
    return {
        "load_s": round(load_s, 2),
        "runs": rows,
        "first_ms": median(r["first_ms"] for r in rows),
        "total_ms": median(r["total_ms"] for r in rows),
        "decode_tok_s": median(r["decode_tok_s"] for r in rows),
        "completion_tokens": median(r["completion_tokens"] for r in rows),
        "prompt_tokens": rows[0]["prompt_tokens"],
        "text": rows[0]["text"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="qwen2.5-coder-0.5b-instruct-q4_k_m")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=0, help="0: each backend's default")
    ap.add_argument("--hf-cache-dir", help="dense checkpoints for transformers (default <models dir>/hf)")
    ap.add_argument("--backends", default="llama.cpp,transformers")
    ap.add_argument("--endpoint", help="also measure an OpenAI-compatible endpoint (base URL ending in /v1)")
    ap.add_argument("--endpoint-model", help="the model name the endpoint serves")
    args = ap.parse_args()
    setup_env()

    from rag.core.settings import Settings
    from rag.generation.factory import make_generator
    from rag.models.registry import ModelRegistry

    settings = Settings()
    registry = ModelRegistry(settings)
    results = {}
    backends = [b.strip() for b in args.backends.split(",") if b.strip()] + (["openai"] if args.endpoint else [])
    for backend in backends:
        g = {"backend": backend, "model": args.model, "threads": args.threads, "temperature": 0.0}
        if backend == "transformers" and args.hf_cache_dir:
            g["hf_cache_dir"] = args.hf_cache_dir
        if backend == "openai":
            g.update(endpoint=args.endpoint, model=args.endpoint_model or args.model)
        gen = make_generator(settings.generator.model_copy(update=g), registry)
        print(f"measuring {backend} ...", file=sys.stderr, flush=True)
        results[backend] = measure(gen, args.runs, args.max_tokens)
        results[backend]["device"] = getattr(getattr(gen, "_hf", None), "device", "cpu")
        del gen
        gc.collect()

    rows = [
        [b, r["device"], r["load_s"], r["prompt_tokens"], r["completion_tokens"], r["first_ms"], r["decode_tok_s"], r["total_ms"]]
        for b, r in results.items()
    ]
    print(
        table(
            ["backend", "device", "load s", "prompt tok", "completion tok", "first piece ms", "decode tok/s", "total ms"],
            rows,
            title=f"{args.model}, {args.runs} runs of {args.max_tokens} tokens, medians",
        )
    )
    ratio = None
    if "llama.cpp" in results and "transformers" in results:
        ratio = results["transformers"]["decode_tok_s"] / results["llama.cpp"]["decode_tok_s"]
        print(f"\ndecode tokens/s, transformers / llama.cpp: {ratio:.2f}")
        same = results["transformers"]["text"] == results["llama.cpp"]["text"]
        print(f"same greedy text from both: {same}")
    path = write_result(
        "generator_backends",
        {
            "env": env_info(),
            "args": vars(args),
            "results": results,
            "ratio_transformers_over_llama_cpp": ratio,
            "peak_rss": peak_rss_mib(),
        },
    )
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
