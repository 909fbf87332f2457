"""Generated calculation answers with known truth, for the calculation checker (rag.answering.calculations).

Each case is a few sources (a report's prose and table rows, with the scale they are written in), a question, and
an answer as a small model writes it, in one of five kinds:

- `right`: the right operands, each cited to the source that writes it, and the right result;
- `wrong_arithmetic`: the right operands, a wrong result (the service must compute and write the right one);
- `wrong_operand`: an operand that its source does not write (a misread digit, a rounded figure, a year);
- `uncited_source`: an operand cited to a source that does not write it (another retrieved source does);
- `unit_mixup`: a billion read as a million, a percentage used as a plain number, a scale word that contradicts the
  source, or sources in different scales combined as if they were one (the service converts those).

`truth` is the value the calculation must produce (percent in points, amounts in base units), and `acceptable`
says whether any kept calculation is acceptable at all: an answer built on an operand that is not in its cited
source must be dropped whatever its result.
"""

import random
from dataclasses import dataclass

from rag.core.types import Hit

KINDS = ("right", "wrong_arithmetic", "wrong_operand", "uncited_source", "unit_mixup")
MIXUPS = {  # each unit mix-up with the calculations it can spoil
    "billion_source": ["growth", "growth_fn", "change", "average", "share", "ratio", "sum"],
    "bare_percent": ["fraction"],
    "wrong_word": ["growth", "change", "average"],
    "billion_operand": ["growth", "change", "share", "ratio", "sum"],
}
ORGS = ["Calder Pharma", "Norvik Shipping", "Brightwater Foods", "Aldmere Energy", "Kestrel Software", "Olvan Retail"]
METRICS = [
    ("revenue", "Revenue"),
    ("operating income", "Operating income"),
    ("capital expenditure", "Capital expenditure"),
    ("research and development expense", "Research and development expense"),
    ("net income", "Net income"),
]


@dataclass
class Case:
    kind: str
    hits: list[Hit]
    question: str
    answer: str
    truth: float  # percent in points, ratio as is, amounts in base units
    truth_kind: str  # percent | ratio | amount
    acceptable: bool  # may a calculation of this answer be kept at all?


def _hits(doc: str, texts: list[str]) -> list[Hit]:
    return [Hit(chunk_id=f"c{i}", doc_id="d", doc=doc, page=i + 2, score=1.0, text=t) for i, t in enumerate(texts)]


def _n(value: float, decimals: int = 0) -> str:
    return f"{value:,.{decimals}f}"


def _pct(value: float) -> str:
    return f"{value:.1f}%"


def case(rng: random.Random, kind: str) -> Case:
    org = rng.choice(ORGS)
    doc = org.lower().replace(" ", "_") + "_2023_annual_report.pdf"
    (m1, M1), (m2, M2) = rng.sample(METRICS, 2)
    old = rng.randint(900, 40_000)
    new = int(old * rng.uniform(0.7, 1.5)) or 1
    while new == old:
        new += 1
    part = rng.randint(50, max(60, old // 3))
    margin_old, margin_new = round(rng.uniform(10, 60), 1), round(rng.uniform(10, 60), 1)
    shape = rng.choice(["growth", "share", "change", "sum", "average", "ratio", "points", "fraction", "growth_fn"])
    mixup = rng.choice(list(MIXUPS))
    if kind == "unit_mixup":
        shape = rng.choice(MIXUPS[mixup])
    # Sources: a prose sentence in millions, a table "in millions", a percentage.
    prose = f"{org} reported {m1} of ${_n(old)} million in 2022."
    table = f"Selected financial data (in millions)\n{M1} | 2023 | {_n(new)}\n{M2} | 2023 | {_n(part)}"
    rates = f"The gross margin was {margin_old:.1f}% in 2022 and {margin_new:.1f}% in 2023."
    other = f"{org} employed {rng.randint(200, 9000):,} people at the end of 2023."
    texts = [prose, table, rates, other]
    q_growth = f"How much did {org}'s {m1} grow from 2022 to 2023?"
    truth_kind = "percent"
    if shape in ("growth", "growth_fn"):
        question, truth = q_growth, (new - old) / old * 100
        expr = (
            f"({_n(new)} [2] - {_n(old)} [1]) / {_n(old)} [1] * 100"
            if shape == "growth"
            else f"growth({_n(old)} [1], {_n(new)} [2])"
        )
        lead = f"{M1} grew"
    elif shape == "share":
        question, truth = f"What share of {org}'s 2023 {m1} was {m2}?", part / new * 100
        expr, lead = f"{_n(part)} [2] / {_n(new)} [2] * 100", f"{M2} was this share of {m1}"
    elif shape == "change":
        question, truth, truth_kind = f"By how much did {org}'s {m1} change from 2022 to 2023?", (new - old) * 1e6, "amount"
        expr, lead = f"{_n(new)} [2] - {_n(old)} [1]", f"{M1} changed by"
    elif shape == "sum":
        question, truth, truth_kind = f"What were {org}'s 2023 {m1} and {m2} together?", (new + part) * 1e6, "amount"
        expr, lead = f"{_n(new)} [2] + {_n(part)} [2]", f"{M1} and {m2} together were"
    elif shape == "average":
        question, truth, truth_kind = f"What was {org}'s average {m1} in 2022 and 2023?", (new + old) / 2 * 1e6, "amount"
        expr, lead = f"average({_n(old)} [1], {_n(new)} [2])", f"Average {m1} was"
    elif shape == "ratio":
        question, truth, truth_kind = f"What is the ratio of {org}'s 2023 {m1} to {m2}?", new / part, "ratio"
        expr, lead = f"{_n(new)} [2] / {_n(part)} [2]", f"The ratio of {m1} to {m2} was"
    elif shape == "points":
        question, truth = f"By how many points did {org}'s gross margin change from 2022 to 2023?", margin_new - margin_old
        expr, lead = f"{margin_new:.1f}% [3] - {margin_old:.1f}% [3]", "The gross margin changed by"
    else:  # fraction: gross profit from a margin
        question, truth, truth_kind = (
            f"What was {org}'s gross profit in 2023, from {m1} and gross margin?",
            new * margin_new / 100 * 1e6,
            "amount",
        )
        expr, lead = f"{_n(new)} [2] * {margin_new:.1f}% [3]", "Gross profit was"
    result = _render(truth, truth_kind)
    acceptable = True
    if kind == "right":
        answer = f"{lead} {result}: {expr} = {result}."
    elif kind == "wrong_arithmetic":
        wrong = _render(truth * rng.choice([1.1, 0.8, 1.5, 0.5, 2.0]) + (1 if truth_kind == "amount" else 0.3), truth_kind)
        answer = f"{lead} {wrong}: {expr} = {wrong}."
    elif kind == "wrong_operand":
        acceptable = False
        answer = f"{lead} {result}: {_misread(rng, expr, shape)} = {result}."
    elif kind == "uncited_source":
        acceptable = False
        answer = f"{lead} {result}: {_miscite(rng, expr)} = {result}."
    else:
        answer, texts, acceptable = _mixup(mixup, shape, lead, expr, result, texts, new, old, part, margin_new)
    return Case(kind, _hits(doc, texts), question, answer, truth, truth_kind, acceptable)


def _render(value: float, kind: str) -> str:
    if kind == "percent":
        return _pct(value)
    if kind == "ratio":
        return f"{value:.2f}"
    return f"{'-' if value < 0 else ''}${abs(value) / 1e6:,.1f} million"


def _misread(rng: random.Random, expr: str, shape: str) -> str:
    """One operand replaced by a number its source does not write."""
    import re

    numbers = [
        m for m in re.finditer(r"\d[\d,]*(?:\.\d+)?%?", expr) if m.group() not in ("100",) and "[" in expr[m.end() : m.end() + 2]
    ]
    m = rng.choice(numbers)
    text = m.group()
    how = rng.choice(["digit", "round", "year"])
    if how == "year":
        bad = "2023"
    elif how == "round" and "." not in text:
        value = int(text.replace(",", ""))
        bad = f"{round(value, -2) + (100 if value % 100 == 0 else 0):,}"
    else:
        digits = [i for i, ch in enumerate(text) if ch.isdigit()]
        i = rng.choice(digits)
        bad = text[:i] + str((int(text[i]) + rng.randint(1, 8)) % 10) + text[i + 1 :]
        if bad.lstrip("0,") != bad:  # a leading zero: change another way
            bad = "9" + bad
    return expr[: m.start()] + bad + expr[m.end() :]


def _miscite(rng: random.Random, expr: str) -> str:
    """One operand's marker pointing to a source that does not write it."""
    import re

    marks = list(re.finditer(r"\[(\d)\]", expr))
    m = rng.choice(marks)
    wrong = {"1": "2", "2": rng.choice(["1", "3", "4"]), "3": rng.choice(["1", "4"])}[m.group(1)]
    return expr[: m.start()] + f"[{wrong}]" + expr[m.end() :]


def _mixup(how, shape, lead, expr, result, texts, new, old, part, margin_new):
    """A unit mix-up: returns (answer, texts, acceptable)."""
    if how == "bare_percent":
        # a percentage used as a plain number on an amount: 32,765 * 45.5 = 1,490,808 (must be refused)
        bogus = new * margin_new
        return f"Gross profit was {bogus:,.0f}: {_n(new)} [2] * {margin_new:.1f} [3] = {bogus:,.0f}.", texts, False
    if how == "billion_source":
        # one source writes its figure in billions; the model copies it and computes as if it were millions
        texts = list(texts)
        if f"{_n(old)} [1]" in expr:
            texts[0] = texts[0].replace(f"${_n(old)} million", f"${old / 1000:,.3f} billion")
            bad_expr = expr.replace(f"{_n(old)} [1]", f"{old / 1000:,.3f} [1]")
        else:  # the table is in billions: both of its rows
            texts[1] = texts[1].replace("(in millions)", "(in billions)")
            texts[1] = texts[1].replace(f"| {_n(new)}", f"| {new / 1000:,.3f}").replace(f"| {_n(part)}", f"| {part / 1000:,.3f}")
            bad_expr = expr.replace(f"{_n(new)} [2]", f"{new / 1000:,.3f} [2]").replace(
                f"{_n(part)} [2]", f"{part / 1000:,.3f} [2]"
            )
        mixed = result if shape in ("share", "ratio", "sum") else "1.0%" if shape.startswith("growth") else "$1.0 million"
        # the service converts the scales, so the calculation is right (the model's mixed-up result replaced)
        return f"{lead} {mixed}: {bad_expr} = {mixed}.", texts, True
    if how == "wrong_word":
        # the model calls the millions of the prose source billions (the source says million)
        return f"{lead} {result}: {expr.replace(f'{_n(old)} [1]', f'{_n(old)} billion [1]', 1)} = {result}.", texts, False
    # the model rewrites a million figure in billions, wrongly: 12,345 -> 13.2 billion
    return (
        f"{lead} {result}: {expr.replace(f'{_n(new)} [2]', f'{new / 1000 * 1.07:,.1f} billion [2]', 1)} = {result}.",
        texts,
        False,
    )


def cases(n: int = 200, seed: int = 17) -> list[Case]:
    """`n` cases, as many of each kind (in turn), the same for a seed."""
    rng = random.Random(seed)
    return [case(rng, KINDS[i % len(KINDS)]) for i in range(n)]


def judge(c: Case, checked) -> str:
    """What the checker did with a case: "dropped", "right" (kept, with the true result) or "wrong" (kept with a
    result that is not the truth, or kept when no calculation of it may be)."""
    if not checked.calculations:
        return "dropped"
    calc = checked.calculations[-1]
    if not c.acceptable:
        return "wrong"
    return "right" if _close(calc, c.truth, c.truth_kind) else "wrong"


def _close(calc, truth: float, kind: str) -> bool:
    text = calc.text.replace(",", "")
    import re

    m = re.search(r"\d+(?:\.(\d+))?", text)
    decimals = len(m.group(1) or "") if m else 0
    if kind == "percent":
        return calc.unit in ("%", "percentage points") and abs(calc.result - truth) <= 0.5 * 10**-decimals + 1e-9
    if kind == "ratio":
        return calc.unit == "" and abs(calc.result - truth) <= 0.5 * 10**-decimals + 1e-9
    scale = {"thousand": 1e3, "million": 1e6, "billion": 1e9}.get(calc.unit.split()[-1] if calc.unit else "", 1.0)
    return abs(calc.result * scale - truth) <= 0.5 * 10**-decimals * scale + 1e-6 * abs(truth)
