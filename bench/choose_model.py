"""Choosing the answer model: quality and latency of the generator models on invented facts.

Generates 4 small PDFs (tests.helpers.docgen.simple_pdf, 2 pages each) holding 16 invented facts (names,
numbers, dates) whose answers and pages are known exactly, ingests them into a temporary data dir, then
for each model asks the 16 answerable questions and 6 unanswerable ones (facts in no document).

Scoring (per question):
  answer text   the expected string appears in the answer (case-insensitive; numbers must match exactly,
                so "5" is not found in "25"; some facts accept a few spellings, e.g. of a date);
  citation      at least one citation points to the document and page that hold the fact;
  answerable    correct when both hold;
  refusal       correct for an unanswerable question when the answer says "not found" or cites nothing.
Also reported: retrieval recall (the fact's page is among the retrieved sources) to tell retrieval misses
from generation errors, and the median latency of all questions.

Run:  .venv/bin/python bench/choose_model.py [--model both|NAME[,NAME]] [--limit N] [-k 5]
Writes bench/out/choose_model.json. Reports numbers only; it never fails because something was slow.
"""

import argparse
import gc
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (  # noqa: E402
    contains_answer,
    env_info,
    median,
    peak_rss_mib,
    resolve_models,
    services_for,
    setup_env,
    table,
    write_result,
)

# Each document: file name, title, and pages of (heading, paragraphs). Every fact below is invented.
DOCS = {
    "orchard-cooperative.pdf": (
        "Halvorsen Orchard Cooperative: Annual Notes",
        [
            (
                "1. Membership",
                [
                    "The Halvorsen Orchard Cooperative was founded in 1987 by a group of fruit growers along the fjord. "
                    "Today the cooperative has 143 member farms, most of them family run.",
                    "Members meet twice a year to agree on prices, shared equipment and the picking schedule.",
                ],
            ),
            (
                "2. Harvest and storage",
                [
                    "The 2023 apple harvest reached 870 tonnes, the largest since the cooperative began keeping records. "
                    "All fruit is kept in the cold storage warehouse in Lindesnes until it is sold.",
                    "Pears and plums are sorted by hand before they are packed.",
                ],
            ),
        ],
    ),
    "lab-equipment.pdf": (
        "Marlow Research Lab: Equipment Register",
        [
            (
                "1. Imaging",
                [
                    "The electron microscope was purchased on 14 March 2019 and is booked through the shared calendar. "
                    "The lab manager, Dr. Tomasz Wielicki, approves every booking longer than four hours.",
                    "Samples must be labelled with the project code before they enter the imaging room.",
                ],
            ),
            (
                "2. Sample preparation",
                [
                    "The centrifuge room is kept at 18 degrees Celsius at all times. "
                    "The calibration contract for all balances and pipettes is held by Brightline Instruments.",
                    "Spills are cleaned immediately and recorded in the incident book.",
                ],
            ),
        ],
    ),
    "ferry-guide.pdf": (
        "Solvik Ferry Service: Passenger Guide",
        [
            (
                "1. Timetable and fares",
                [
                    "On weekdays the first ferry from Solvik departs at 06:40 and the crossing takes twenty minutes. "
                    "A single adult ticket costs 42 NOK when bought at the quay.",
                    "Tickets bought on board cost more and can only be paid by card.",
                ],
            ),
            (
                "2. The fleet",
                [
                    "The ferry Kestrel, the largest in the fleet, carries up to 312 passengers and 40 cars. "
                    "The harbour master at Solvik is Maren Eikeland, who also coordinates winter closures.",
                    "Bicycles travel free of charge on every crossing.",
                ],
            ),
        ],
    ),
    "museum-report.pdf": (
        "Tidewater Maritime Museum: Annual Report",
        [
            (
                "1. Collection",
                [
                    "The oldest exhibit in the collection is a wooden rowing boat built in 1742. "
                    "The museum's director is Oskar Lindqvist, who has led it for nine years.",
                    "Volunteers restore one historic vessel each winter in the boat shed.",
                ],
            ),
            (
                "2. Buildings and members",
                [
                    "The new east wing opened on 3 June 2022 and houses the navigation instruments. "
                    "The annual membership fee is 350 NOK and includes free entry for one guest.",
                    "School classes visit on Tuesday and Thursday mornings.",
                ],
            ),
        ],
    ),
}

# (question, accepted answer strings (any one), document, page)
ANSWERABLE = [
    ("In what year was the Halvorsen Orchard Cooperative founded?", ["1987"], "orchard-cooperative.pdf", 1),
    ("How many member farms does the Halvorsen Orchard Cooperative have?", ["143"], "orchard-cooperative.pdf", 1),
    ("How many tonnes did the 2023 apple harvest of the cooperative reach?", ["870"], "orchard-cooperative.pdf", 2),
    ("Where is the cooperative's cold storage warehouse?", ["Lindesnes"], "orchard-cooperative.pdf", 2),
    (
        "When was the electron microscope purchased?",
        ["14 March 2019", "March 14, 2019", "March 14 2019", "14th March 2019", "March 14th, 2019", "2019-03-14"],
        "lab-equipment.pdf",
        1,
    ),
    ("Who is the lab manager of the Marlow Research Lab?", ["Wielicki"], "lab-equipment.pdf", 1),
    ("At what temperature is the centrifuge room kept?", ["18"], "lab-equipment.pdf", 2),
    ("Which company holds the calibration contract for the balances and pipettes?", ["Brightline"], "lab-equipment.pdf", 2),
    ("When does the first weekday ferry depart from Solvik?", ["06:40", "6:40"], "ferry-guide.pdf", 1),
    ("How much does a single adult ferry ticket cost at the quay?", ["42"], "ferry-guide.pdf", 1),
    ("How many passengers can the ferry Kestrel carry?", ["312"], "ferry-guide.pdf", 2),
    ("Who is the harbour master at Solvik?", ["Eikeland"], "ferry-guide.pdf", 2),
    ("In what year was the museum's oldest exhibit built?", ["1742"], "museum-report.pdf", 1),
    ("Who is the director of the Tidewater Maritime Museum?", ["Lindqvist"], "museum-report.pdf", 1),
    (
        "When did the museum's new east wing open?",
        ["3 June 2022", "June 3, 2022", "June 3 2022", "3rd June 2022", "June 3rd, 2022", "2022-06-03"],
        "museum-report.pdf",
        2,
    ),
    ("How much is the annual membership fee of the Tidewater Maritime Museum?", ["350"], "museum-report.pdf", 2),
]

UNANSWERABLE = [
    "How many employees does the Halvorsen Orchard Cooperative have?",
    "What does a child ticket on the Solvik ferry cost?",
    "In what year was the Marlow Research Lab founded?",
    "What is the population of Lindesnes?",
    "Who designed the east wing of the Tidewater Maritime Museum?",
    "What is the top speed of the ferry Kestrel?",
]


def make_docs(folder: Path) -> list[Path]:
    from tests.helpers import docgen

    folder.mkdir(parents=True, exist_ok=True)
    return [docgen.simple_pdf(folder / name, pages, title=title) for name, (title, pages) in DOCS.items()]


def ingest(data_dir: Path, files: list[Path]) -> dict:
    from ingest.pipeline import Ingestor

    report = Ingestor(services_for(data_dir)).ingest_paths(files)
    if not report.ok:
        raise SystemExit(f"ingesting the generated documents failed: {[(f.path, f.reason) for f in report.failed]}")
    return report.as_dict()


def refused(answer) -> bool:
    return "not found" in answer.answer.lower() or not answer.citations


def run_model(model: str, data_dir: Path, answerable: list, unanswerable: list, k: int | None) -> dict:
    services = services_for(data_dir, model)
    t0 = time.perf_counter()
    services.warm_up()
    warm_s = time.perf_counter() - t0
    rows = []
    items = [(q, acc, doc, page) for q, acc, doc, page in answerable] + [(q, None, None, None) for q in unanswerable]
    for i, (q, accepted, doc, page) in enumerate(items, 1):
        t = time.perf_counter()
        ans = services.ask(q, k)
        ms = (time.perf_counter() - t) * 1000
        row = {
            "question": q,
            "answerable": accepted is not None,
            "answer": ans.answer,
            "citations": [{"doc": c.doc, "page": c.page} for c in ans.citations],
            "latency_ms": round(ms, 1),
            "generation_ms": ans.timings_ms.get("generation_ms"),
            "prompt_tokens": ans.timings_ms.get("prompt_tokens"),
        }
        if accepted is not None:
            row.update(
                expected=accepted,
                doc=doc,
                page=page,
                text_ok=any(contains_answer(ans.answer, a) for a in accepted),
                citation_ok=any(c.doc == doc and c.page == page for c in ans.citations),
                retrieved=any(h.doc == doc and h.page == page for h in ans.hits),
            )
            row["correct"] = row["text_ok"] and row["citation_ok"]
        else:
            row["correct"] = refused(ans)
        rows.append(row)
        mark = "ok" if row["correct"] else "XX"
        print(
            f"  [{i:2d}/{len(items)}] {mark} {ms / 1000:5.1f}s  {q[:60]:60s} -> {' '.join(ans.answer.split())[:70]}", flush=True
        )
    a_rows = [r for r in rows if r["answerable"]]
    u_rows = [r for r in rows if not r["answerable"]]

    def frac(rs, key):
        return round(sum(bool(r[key]) for r in rs) / len(rs), 3) if rs else None

    summary = {
        "model": model,
        "sha256": services.generator.sha256,
        "warm_up_s": round(warm_s, 2),
        "answerable": len(a_rows),
        "unanswerable": len(u_rows),
        "answerable_accuracy": frac(a_rows, "correct"),
        "answer_text_accuracy": frac(a_rows, "text_ok"),
        "citation_accuracy": frac(a_rows, "citation_ok"),
        "retrieval_recall": frac(a_rows, "retrieved"),
        "refusal_accuracy": frac(u_rows, "correct"),
        "overall": round(sum(r["correct"] for r in rows) / len(rows), 3) if rows else None,
        "median_latency_ms": median(r["latency_ms"] for r in rows),
        "median_latency_answerable_ms": median(r["latency_ms"] for r in a_rows),
        "median_latency_unanswerable_ms": median(r["latency_ms"] for r in u_rows),
        "peak_rss_after": peak_rss_mib(),
    }
    del services
    gc.collect()
    return {"summary": summary, "questions": rows}


def recommend(summaries: list[dict]) -> str:
    """Best overall (answerable + refusals); within one question of the best, prefer the faster one."""
    if len(summaries) == 1:
        s = summaries[0]
        return f"only {s['model']} measured: overall {s['overall']:.0%}, median latency {s['median_latency_ms'] / 1000:.1f}s"
    n = max(s["answerable"] + s["unanswerable"] for s in summaries)
    best = max(s["overall"] for s in summaries)
    close = [s for s in summaries if best - s["overall"] <= 1 / n + 1e-9]
    pick = min(close, key=lambda s: s["median_latency_ms"])
    others = "; ".join(
        f"{s['model']} {s['overall']:.0%} correct, {s['median_latency_ms'] / 1000:.1f}s" for s in summaries if s is not pick
    )
    if pick["overall"] == best:
        why = "best quality" if len(close) == 1 else "best quality, and the fastest of the models within one question"
    else:
        why = "within one question of the best quality, and faster"
    return (
        f"recommendation: {pick['model']} ({why}: {pick['overall']:.0%} correct, median "
        f"{pick['median_latency_ms'] / 1000:.1f}s; vs {others})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="both", help="'both' (default), 'default', a model name, or comma-separated names")
    ap.add_argument(
        "--limit", type=int, default=None, help="ask only the first N answerable and the first N unanswerable questions"
    )
    ap.add_argument("-k", type=int, default=None, help="sources per question (default: settings top_k)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (prints its path)")
    args = ap.parse_args()
    setup_env()
    models = resolve_models(args.model)
    answerable = ANSWERABLE[: args.limit] if args.limit else ANSWERABLE
    unanswerable = UNANSWERABLE[: args.limit] if args.limit else UNANSWERABLE

    tmp = Path(tempfile.mkdtemp(prefix="bench-choose-"))
    try:
        data_dir = tmp / "data"
        files = make_docs(tmp / "docs")
        ing = ingest(data_dir, files)
        print(
            f"ingested {len(files)} generated PDFs ({ing['pages']} pages, {ing['chunks']} chunks); "
            f"{len(answerable)} answerable + {len(unanswerable)} unanswerable questions; models: {', '.join(models)}"
        )
        results = []
        for model in models:
            print(f"\n== {model}: warming up ...", flush=True)
            results.append(run_model(model, data_dir, answerable, unanswerable, args.k))
        summaries = [r["summary"] for r in results]

        def pct(v):
            return None if v is None else f"{v:.0%}"

        print()
        print(
            table(
                [
                    "model",
                    "answerable",
                    "answer text",
                    "citation",
                    "retrieval",
                    "refusal",
                    "overall",
                    "median s",
                    "answerable s",
                    "refusal s",
                    "peak RSS MiB",
                ],
                [
                    [
                        s["model"],
                        pct(s["answerable_accuracy"]),
                        pct(s["answer_text_accuracy"]),
                        pct(s["citation_accuracy"]),
                        pct(s["retrieval_recall"]),
                        pct(s["refusal_accuracy"]),
                        pct(s["overall"]),
                        _s(s["median_latency_ms"]),
                        _s(s["median_latency_answerable_ms"]),
                        _s(s["median_latency_unanswerable_ms"]),
                        s["peak_rss_after"]["self_mib"],
                    ]
                    for s in summaries
                ],
                title=f"Answer model comparison ({len(answerable)} answerable, {len(unanswerable)} unanswerable)",
            )
        )
        line = recommend(summaries)
        print("\n" + line)
        rss = peak_rss_mib()
        print(f"peak RSS: self {rss['self_mib']:.0f} MiB, children {rss['children_mib']:.0f} MiB")
        data = {
            "benchmark": "choose_model",
            "params": {"models": models, "answerable": len(answerable), "unanswerable": len(unanswerable), "k": args.k},
            "ingest": ing,
            "results": results,
            "recommendation": line,
            "peak_rss": rss,
            "env": env_info(),
        }
        print(f"wrote {write_result('choose_model', data)}")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _s(ms):
    return None if ms is None else round(ms / 1000, 2)


if __name__ == "__main__":
    main()
