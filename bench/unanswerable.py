"""Add unanswerable questions to a question set by swapping the company for one absent from the documents.

FinanceBench-style records name their company (`company` field and in the question text). A copy of such a
question about a company none of the filings covers ("What is the FY2018 capital expenditure of Siemens?")
has one right answer: a refusal. The copies get `answerable: false` and no gold pages; the originals are kept.

Run:  .venv/bin/python bench/unanswerable.py ../shared/data/financebench-dev/questions.jsonl /tmp/fb-questions.jsonl
Writes the output file only (outside the repository: the source data's licence forbids shipping it).
"""

import json
import re
import sys

ABSENT = [
    "Siemens",
    "Toyota",
    "Nestle",
    "Unilever",
    "Samsung",
    "Intel",
    "Oracle",
    "Walmart",
    "Netflix",
    "Tesla",
    "Ford",
    "Sony",
    "Honda",
    "Heineken",
    "Airbus",
    "Volvo",
    "Philips",
    "Ericsson",
    "Novartis",
    "Danone",
]


def swapped(records: list[dict], every: int = 3) -> list[dict]:
    """Every `every`-th record whose question names its company, about an absent company instead."""
    out = []
    for i, r in enumerate(records):
        company = r.get("company") or ""
        if i % every or not company or company not in r["question"]:
            continue
        other = ABSENT[len(out) % len(ABSENT)]
        question = re.sub(re.escape(company), other, r["question"])
        out.append(
            {
                "id": f"{r.get('id', i)}-absent",
                "question": question,
                "answer": "",
                "answerable": False,
                "company": other,
                "source_id": r.get("id"),
            }
        )
    return out


def main() -> None:
    src, dst = sys.argv[1], sys.argv[2]
    records = [json.loads(line) for line in open(src, encoding="utf-8") if line.strip()]
    extra = swapped(records)
    with open(dst, "w", encoding="utf-8") as f:
        for r in records + extra:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(records)} answerable + {len(extra)} unanswerable -> {dst}")


if __name__ == "__main__":
    main()
