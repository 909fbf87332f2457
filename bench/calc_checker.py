"""The calculation checker on generated answers with known truth (tests/helpers/calc_cases.py): how many of each
kind it keeps, and whether any kept calculation is wrong (its result not the truth, or built on an operand that is
not in its cited source). No model runs: the answers are written as a small model writes them.

Run:  .venv/bin/python bench/calc_checker.py [--n 200] [--seed 17] [--show wrong|dropped|right]
"""

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.answering.citations import check_answer  # noqa: E402
from tests.helpers.calc_cases import KINDS, cases, judge  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--show", choices=["wrong", "dropped", "right"], default=None)
    args = ap.parse_args()
    counts: Counter = Counter()
    replaced = 0
    for c in cases(args.n, args.seed):
        checked = check_answer(c.answer, c.hits, c.question)
        outcome = judge(c, checked)
        counts[(c.kind, outcome)] += 1
        replaced += sum(calc.replaced for calc in checked.calculations)
        if args.show == outcome:
            print(
                f"[{c.kind}] {c.question}\n  model:   {c.answer}\n  checked: {checked.text or '-'}  dropped: {checked.dropped}\n"
            )
    print(f"{'kind':18s} {'cases':>5s} {'kept right':>10s} {'dropped':>8s} {'kept wrong':>10s}")
    for kind in KINDS:
        row = [counts[(kind, o)] for o in ("right", "dropped", "wrong")]
        print(f"{kind:18s} {sum(row):5d} {row[0]:10d} {row[1]:8d} {row[2]:10d}")
    wrong = sum(v for (_, o), v in counts.items() if o == "wrong")
    print(f"wrong calculations accepted: {wrong}; model results replaced by the computed ones: {replaced}")
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
