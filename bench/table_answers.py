"""What the tables answer without a model: table lookups (rag.answering.lookup) and table calculations
(rag.answering.table_calculations) over each question's retrieved sources, on an index you have.

For every question: retrieve the top k as the service does, look in the sources of the documents it names (all
sources when the index holds one document), and print the lookup or the checked calculation next to the expected
answer. A question the rules do not fire on is counted, not printed. The expected answer is only shown: reading
whether a fired answer is right is left to the person (FinanceBench's answers are free text: "$1577.00", "1.9%").

    RAG_DATA_DIR=DIR .venv/bin/python bench/table_answers.py --questions ../shared/data/financebench-dev/questions.jsonl
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import env_info  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--questions", type=Path, required=True, help="JSON lines with question (and answer)")
    ap.add_argument("-k", type=int, default=5)
    args = ap.parse_args()

    from rag.answering.citations import check_answer
    from rag.answering.lookup import lookup
    from rag.answering.table_calculations import table_calculation
    from rag.core.settings import Settings
    from rag.service.services import Services

    services = Services(Settings())
    single = len(services.kb.store.documents(None)) == 1
    rows = [json.loads(line) for line in args.questions.read_text().splitlines() if line.strip()]
    counts = {"questions": len(rows), "lookups": 0, "calculations": 0, "calculations_unverified": 0}
    for q in rows:
        hits, _ = services.kb.search(q["question"], args.k)
        routed = [n for n, h in enumerate(hits, 1) if h.route]
        if not routed and not single:
            continue
        allowed = routed or None
        found = lookup(q["question"], hits, allowed)
        text = found.text if found else None
        n = found.n if found else None
        if found:
            counts["lookups"] += 1
        elif calc := table_calculation(q["question"], hits, allowed):
            checked = check_answer(calc.draft, hits, q["question"])
            counts["calculations" if checked.calculations else "calculations_unverified"] += 1
            text, n = (checked.text if checked.calculations else f"unverified: {calc.draft}"), calc.n
        if text:
            hit = hits[n - 1]
            print(f"Q: {q['question'][:140]}\n   expected: {str(q.get('answer', ''))[:60]}")
            print(f"   -> {text}  ({hit.doc} p.{hit.page})")
    print(json.dumps({**counts, "k": args.k, "cpu": env_info()["cpu_model"]}))


if __name__ == "__main__":
    main()
