"""A smaller BEIR set cut from SciFact-train, for comparing embedder backends when the full set takes too long.

    .venv/bin/python bench/scifact_subset.py --src /work/shared/data/scifact-train --out /tmp/scifact-sub \
        [--queries 300] [--docs 1500] [--seed 0]

Keeps the first `--queries` judged queries (file order), every document judged relevant to them, and random other
documents (seeded) up to `--docs`; writes corpus.jsonl, queries.jsonl and qrels/train.tsv under `--out` (never into
the repository). Scores on it are comparable with each other, not with scores on the full corpus.
"""

import argparse
import csv
import json
import random
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--src", default="/work/shared/data/scifact-train")
    ap.add_argument("--out", default="/tmp/scifact-sub")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--docs", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    src, out = Path(args.src), Path(args.out)
    qrels: dict[str, set[str]] = {}
    for row in csv.reader(open(src / "qrels" / "train.tsv"), delimiter="\t"):
        if row[0] != "query-id":
            qrels.setdefault(row[0], set()).add(row[1])
    judged = [q for q in map(json.loads, open(src / "queries.jsonl")) if q["_id"] in qrels][: args.queries]
    relevant = set().union(*(qrels[q["_id"]] for q in judged))
    corpus = [json.loads(line) for line in open(src / "corpus.jsonl")]
    others = [r for r in corpus if r["_id"] not in relevant]
    random.Random(args.seed).shuffle(others)
    keep = [r for r in corpus if r["_id"] in relevant] + others[: max(0, args.docs - len(relevant))]
    (out / "qrels").mkdir(parents=True, exist_ok=True)
    (out / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in keep))
    (out / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in judged))
    lines = ["query-id\tcorpus-id\tscore\n"] + [f"{q['_id']}\t{d}\t1\n" for q in judged for d in sorted(qrels[q["_id"]])]
    (out / "qrels" / "train.tsv").write_text("".join(lines))
    print(f"{len(keep)} documents ({len(relevant)} judged relevant), {len(judged)} queries -> {out}")


if __name__ == "__main__":
    main()
