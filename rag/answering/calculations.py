"""Calculations in answers: found in the model's text, every operand checked against the source cited for it,
computed by the service (rag.answering.arithmetic), and the result written in by the service.

The form the prompt teaches (rag.answering.prompts): an expression, `=`, the result, each number of the expression
followed by the marker of the source it was taken from:

    Capital expenditure was 4.8% of revenue: 1,577 [2] / 32,765 [1] * 100 = 4.8%.
    Sales grew 12.0%: (1,400 [2] - 1,250 [1]) / 1,250 [1] * 100 = 12.0%.
    Sales grew growth(1,250 [1], 1,400 [2]) = 12.0%.   (also sum, average, change, ratio, share)

The expression is what precedes `=` back to the first word or colon; a marker after a closing parenthesis cites
every number inside it; a number with no marker of its own must be in a source the sentence cites elsewhere (in
any source when the sentence cites none). 100 with no marker is the percent constant. Each operand must be a
number written in its source, as precisely as the model writes it, with the same sign when the model writes it
negative ("(370)", "-370"), as a percentage when the model writes "%"; a number the source gives as a percentage
may be written as its fraction (0.045 for 4.5%), or without its % sign (then it may not multiply an amount).
Scales come from the model's words ("1.58 billion"), else the source's ("1,577 million", or a chunk that says "in
millions"); an operand with no known scale takes the one scale the others share (and is refused if they have
several). Amounts in different scales are converted before the arithmetic. A year (1900-2100, written without a
separator) is never an operand unless the question asks about years.

The result is computed from the operands and written with the precision they justify: a percentage to one decimal,
a ratio to two, an amount as precise as its most precise operand (one more decimal when dividing leaves a
remainder), unless the question asks for decimals ("to two decimal places", "nearest whole number"). A result the
model wrote that differs is replaced (`Calculation.replaced`), and so is the same number elsewhere in the sentence.
"""

import math
import re
from dataclasses import dataclass, field

from rag.answering import arithmetic
from rag.answering.arithmetic import SCALE_NAMES, SCALE_WORDS, CalculationError, Num, Quantity
from rag.answering.markers import MARK
from rag.core.types import Calculation, Hit, Operand

__all__ = ["CalculationError", "SentenceCalculations", "calculations_in", "asks_about_years", "SourceNumbers"]

# Finding: every token of a sentence, words included (they end an expression).
_SCAN = re.compile(
    rf"(?P<mark>{MARK.pattern})"
    rf"|(?P<num>(?:[$€£][ \u00a0]?)?(?:{arithmetic.DIGITS})"
    r"(?:[ \u00a0]?(?:%|percent\b|per[ \u00a0]?cent\b))?(?:[ \u00a0]?(?:thousand|million|billion|trillion|bn|mn)s?\b)?)"
    r"|(?P<func>(?:sum|average|avg|mean|change|growth|ratio|share)\s*\(|[A-Za-z_]\w*\()"
    r"|(?P<word>[A-Za-z_]\w*)"
    r"|(?P<op>\*\*|[-+*/×÷−–^])"
    r"|(?P<lp>\()|(?P<rp>\))|(?P<sep>[,;])|(?P<eq>[=≈])"
    r"|(?P<space>\s+)|(?P<other>.)",
    re.IGNORECASE,
)
_APPROX = re.compile(r"\s*(?:(?:approximately|approx\.?|about|around|roughly|~)\s*)?", re.IGNORECASE)
_POINTS = re.compile(r"[ \u00a0]?(?:percentage[ \u00a0]points?|pp\b|points?\b)", re.IGNORECASE)

# Sources: each number with its sign, percent sign, scale word and currency.
_SOURCE_NUMBER = re.compile(
    rf"(?<![\w.])(?P<cur0>[$€£])?(?P<neg>[-−–](?=[$€£]?\d)|\()?[ \u00a0]?(?P<cur>[$€£])?[ \u00a0]?(?P<num>{arithmetic.DIGITS})"
    r"(?P<close>\))?(?P<pct>[ \u00a0]?(?:%|percent\b|per[ \u00a0]?cent\b))?"
    r"(?:[ \u00a0]?(?P<scale>thousand|million|billion|trillion|bn|mn)s?\b)?",
    re.IGNORECASE,
)
_DECLARED = re.compile(  # "(in millions)", "(Millions, except per share amounts)", "thousands of dollars"
    r"\bin\s+(thousands|millions|billions)\b|\b(thousands|millions|billions)\s+of\s+(?:u\.?s\.?\s+)?(?:dollars|euros|pounds)\b"
    r"|\(\s*(?:\$\s*|dollars\s+)?(thousands|millions|billions)\b",
    re.IGNORECASE,
)
_YEARS_ASKED = re.compile(
    r"\b(?:how many|number of)\s+(?:\w+\s+)?years\b|\bhow long\b|\bhow old\b|\b(?:which|what) year\b"
    r"|\byears?\s+(?:between|since|until|till|from|after|before|ago|elapsed|apart|old)\b",
    re.IGNORECASE,
)
_NUMBER_WORDS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4}
# Words that say what a calculation computes ("grew", "share", "ratio"): a source need not write them.
DESCRIBING = re.compile(
    r"\b(?:gr[eo]w[ns]?|growth|increas(?:e|ed|es|ing)|decreas(?:e|ed|es|ing)|r[oi]se|risen|rising|f[ae]ll|fallen|"
    r"declin(?:e|ed|es|ing)|dropped|change[ds]?|shares?|ratios?|average[ds]?|mean|sum|totall?ed|combined|together|"
    r"difference|percent(?:age)?|points?|proportion|fraction|rate|compared|higher|lower|more|less|up|down|"
    r"calculated|computed|equals?|gives|represent(?:s|ed)?|accounted|making|therefore|thus|so)\b",
    re.IGNORECASE,
)


@dataclass
class SourceNumber:
    """A number written in a source: "(1,577)" in a table "in millions" -> 1577.0, negative, scale 1e6."""

    value: float  # unsigned
    decimals: int
    negative: bool
    percent: bool
    scale: float | None
    currency: str
    line: str  # the line it is written on (the operand's quote)


def source_numbers(text: str) -> list[SourceNumber]:
    """Every number of a source with what is written around it. A scale the chunk declares once ("in millions",
    "thousands of dollars") applies to its numbers that have none of their own."""
    declared = {next(g for g in m.groups() if g).lower().rstrip("s") for m in _DECLARED.finditer(text)}
    chunk_scale = SCALE_WORDS[declared.pop()] if len(declared) == 1 else None
    out = []
    for line in MARK.sub(" ", text).splitlines():
        for m in _SOURCE_NUMBER.finditer(line):
            digits = m.group("num").replace(",", "")
            percent = bool(m.group("pct"))
            word = m.group("scale")
            out.append(
                SourceNumber(
                    value=float(digits),
                    decimals=len(digits.split(".")[1]) if "." in digits else 0,
                    negative=m.group("neg") in ("-", "−", "–") or (m.group("neg") == "(" and bool(m.group("close"))),
                    percent=percent,
                    scale=SCALE_WORDS[word.lower()] if word else (None if percent else chunk_scale),
                    currency=m.group("cur") or m.group("cur0") or "",
                    line=" ".join(line.split())[:300],
                )
            )
    return out


class SourceNumbers:
    """The numbers of each source (1-based, as cited), read once per answer."""

    def __init__(self, hits: list[Hit]):
        self.hits = hits
        self._cache: dict[int, list[SourceNumber]] = {}

    def __len__(self) -> int:
        return len(self.hits)

    def of(self, n: int) -> list[SourceNumber]:
        if n not in self._cache:
            self._cache[n] = source_numbers(self.hits[n - 1].text)
        return self._cache[n]


def asks_about_years(question: str) -> bool:
    """Does the question ask about years (how many years, how long, which year)? Only then may a year be an operand."""
    return bool(_YEARS_ASKED.search(question or ""))


def is_year(num: Num) -> bool:
    return (
        1900 <= num.value <= 2100
        and num.decimals == 0
        and "," not in num.text
        and not (num.percent or num.scale or num.currency or num.negative)
    )


def asked_decimals(question: str) -> int | None:
    """The decimals a question asks for: "to two decimal places" -> 2, "nearest whole number" -> 0."""
    q = (question or "").lower()
    if m := re.search(r"\b(\d|zero|one|two|three|four)\s+decimal", q):
        return int(_NUMBER_WORDS.get(m.group(1), m.group(1)))
    if m := re.search(r"\bnearest\s+(?:whole|integer|percent|percentage point|dollar|unit)", q):
        return 0
    for word, d in (("tenth", 1), ("hundredth", 2), ("thousandth", 3)):
        if re.search(rf"\bnearest\s+{word}\b", q):
            return d
    return None


@dataclass
class Found:
    """One calculation as the model wrote it in a sentence."""

    start: int  # of the expression in the sentence
    end: int  # after the stated result (or after "=")
    expression: str
    stated: Num | None = None
    stated_text: str = ""  # the stated result as written, with a "percentage points" suffix
    stated_points: bool = False


def _tokens(sentence: str) -> list[tuple[str, str, int, int]]:
    return [(m.lastgroup or "other", m.group(), m.start(), m.end()) for m in _SCAN.finditer(sentence) if m.lastgroup != "space"]


def _expression_start(tokens: list[tuple[str, str, int, int]], eq: int) -> int:
    """Index of the first token of the expression ending before tokens[eq]: back to a word, a colon, another "=",
    an opening parenthesis that is not closed, or a separator outside a function's parentheses."""
    depth = 0
    j = eq - 1
    while j >= 0:
        kind, text = tokens[j][0], tokens[j][1]
        if kind == "rp":
            depth += 1
        elif kind in ("lp", "func"):
            if depth == 0 or (kind == "func" and text.split("(")[0].strip().lower() not in arithmetic.FUNCTIONS):
                break
            depth -= 1
        elif kind == "sep":
            if depth == 0:
                break
        elif kind not in ("num", "mark", "op"):
            break
        j -= 1
    j += 1
    while j < eq and (tokens[j][0] in ("mark", "sep") or (tokens[j][0] == "op" and tokens[j][1] not in "-−–")):
        j += 1  # a marker, comma or operator cannot start an expression
    return j


def find(sentence: str) -> list[Found]:
    """The calculations written in a sentence (`expression = result`), left to right."""
    tokens = _tokens(sentence)
    found: list[Found] = []
    for eq, tok in enumerate(tokens):
        if tok[0] != "eq":
            continue
        first = _expression_start(tokens, eq)
        while first < eq and found and tokens[first][2] < found[-1].end:
            first += 1  # a chain ("a - b = c / d = e") does not reuse the previous calculation's text
        while first < eq:
            part = tokens[first:eq]
            nums = sum(t[0] == "num" for t in part)
            if nums < 1 or not any(t[0] in ("op", "func") for t in part) or (nums < 2 and part[0][0] != "func"):
                break
            expression = sentence[part[0][2] : part[-1][3]]
            try:
                arithmetic.parse(expression)
            except CalculationError:
                rest = [t for t in part[1:] if t[0] != "mark"]
                if part[0][0] == "num" and rest and rest[0][0] in ("num", "lp", "func"):
                    first += 1  # a number of the prose just before it ("in 2022 1,400 - 1,250 = 150")
                    while first < eq and tokens[first][0] == "mark":
                        first += 1
                    continue
                # not arithmetic (an exponent, a stray parenthesis): kept, so that the check refuses it
            if _states_a_result(sentence, tok[3]):
                found.append(_with_result(sentence, part[0][2], expression, tok[3]))
            break
    return found


def _states_a_result(sentence: str, after_eq: int) -> bool:
    """After "=": a number, or nothing but markers and punctuation ("pages 3-5 = the appendix" is no calculation)."""
    rest = sentence[_APPROX.match(sentence, after_eq).end() :]  # type: ignore[union-attr]
    return bool(_RESULT.match(rest)) or not re.search(r"\w", MARK.sub("", rest))


_RESULT = re.compile(
    rf"(?P<cur0>[$€£])?(?P<neg>[-−–]|\()?[ \u00a0]?(?P<body>(?:[$€£][ \u00a0]?)?(?:{arithmetic.DIGITS})"
    r"(?:[ \u00a0]?(?:%|percent\b|per[ \u00a0]?cent\b))?(?:[ \u00a0]?(?:thousand|million|billion|trillion|bn|mn)s?\b)?)"
    r"(?P<close>\))?",
    re.IGNORECASE,
)


def _with_result(sentence: str, start: int, expression: str, after_eq: int) -> Found:
    """The calculation with the result the model wrote after "=" (if it wrote one)."""
    pos = after_eq
    if m := _APPROX.match(sentence, pos):
        pos = m.end()
    found = Found(start=start, end=after_eq, expression=expression)
    m = _RESULT.match(sentence, pos)
    if m is None:
        return found
    paren = m.group("neg") == "("
    negative = (paren and bool(m.group("close"))) or m.group("neg") in ("-", "−", "–")
    begin = m.start() if negative or m.group("cur0") else m.start("body")
    end = m.end() if negative else m.end("body")
    body = (m.group("cur0") or "") + m.group("body")  # "$-6,380" is "-$6,380"
    found.stated = arithmetic.number(arithmetic.Token("num", body, begin, end), negative=negative)
    found.end = end
    if p := _POINTS.match(sentence, end):
        found.stated_points, found.end = True, p.end()
    found.stated_text = sentence[begin : found.end]
    return found


@dataclass
class _Operand:
    num: Num
    quantity: Quantity | None = None  # None: an amount whose scale is settled once every operand is known
    scale: float | None = None
    currency: str = ""
    citation: int | None = None
    quote: str = ""
    written_scale: bool = False


def _resolve(num: Num, candidates: list[int], pools: SourceNumbers, question: str) -> _Operand:
    if arithmetic.is_constant(num):
        return _Operand(num, quantity=Quantity(100.0, const=True))
    if is_year(num) and not asks_about_years(question):
        raise CalculationError(f"{num.text} is a year, not a number to compute with")
    sign = -1.0 if num.negative else 1.0
    size = abs(num.value)
    slack = 0.5 * 10**-num.decimals
    for n in candidates:
        matches = []
        for sn in pools.of(n):
            if num.negative and not sn.negative:
                continue
            if num.currency and sn.currency and num.currency != sn.currency:
                continue
            same = abs(size - sn.value) <= slack + 1e-9 * sn.value
            exact_sign = num.negative == sn.negative
            op = _Operand(num, citation=n, quote=sn.line, currency=num.currency or sn.currency)
            if num.percent:
                if not (sn.percent and same):
                    continue
                op.quantity = Quantity(sign * size, hundreds=1)
            elif sn.percent:
                if num.scale or num.currency:
                    continue
                if same:
                    op.quantity = Quantity(sign * size, hundreds=1, bare=True)
                elif abs(size - sn.value / 100) <= slack + 1e-9 * sn.value:
                    op.quantity = Quantity(sign * size)  # the fraction of a percentage
                else:
                    continue
            elif num.scale:
                converted = (
                    bool(sn.scale)
                    and abs(size * num.scale - sn.value * (sn.scale or 1)) <= slack * num.scale + 1e-9 * size * num.scale
                )
                if not ((same and sn.scale in (None, num.scale)) or converted):
                    continue
                op.scale, op.written_scale = num.scale, True
            elif same:
                op.scale = sn.scale
            else:
                continue
            matches.append((not exact_sign, op))
        if matches:
            return min(matches, key=lambda m: m[0])[1]
    where = ", ".join(f"[{n}]" for n in candidates) or "the sources"
    raise CalculationError(f"{num.text} is not written in {where}")


def _settle_scales(operands: list[_Operand]) -> None:
    """Amounts with no known scale take the one scale the other amounts share."""
    amounts = [op for op in operands if op.quantity is None]
    known = {op.scale for op in amounts if op.scale}
    for op in amounts:
        if op.scale is None and len(known) > 1:
            names = " and ".join(SCALE_NAMES.get(s, str(s)) + "s" for s in sorted(known))
            raise CalculationError(f"cannot tell the scale of {op.num.text} (the other numbers are in {names})")
        scale = op.scale or (next(iter(known)) if known else None)
        sign = -1.0 if op.num.negative else 1.0
        op.scale = scale
        op.quantity = Quantity(sign * abs(op.num.value) * (scale or 1), dim=1, scale=scale, currency=op.currency)


@dataclass
class Shown:
    text: str
    value: float
    exact: float
    unit: str
    percent: bool


def _fmt(value: float, decimals: int, currency: str = "") -> str:
    body = f"{abs(value):,.{max(decimals, 0)}f}"
    return f"{'-' if value < 0 and float(body.replace(',', '')) else ''}{currency}{body}"


def _present(result: arithmetic.Result, operands: list[_Operand], found: Found, question: str) -> Shown:
    q, stated = result.quantity, found.stated
    asked = asked_decimals(question)
    if q.kind == "percent" or (q.kind == "ratio" and stated is not None and stated.percent):
        exact = q.value if q.kind == "percent" else q.value * 100
        d = 1 if asked is None else asked
        points = q.points and (stated is None or found.stated_points)  # as the model wrote it, if it did
        text = _fmt(exact, d) + (" percentage points" if points else "%")
        return Shown(text, round(exact, d), exact, "percentage points" if q.points else "%", True)
    if q.kind == "ratio":
        d = 2 if asked is None else asked
        return Shown(_fmt(q.value, d), round(q.value, d), q.value, "", False)
    amounts = [op for op in operands if op.quantity is not None and op.quantity.dim == 1]
    stated_scale = stated.scale if stated is not None and stated.scale else None
    base = q.scale if q.dim == 1 and q.scale else None  # the scale the amounts were converted from; None: unknown
    if base is None:  # the value as the operands are written; the model's scale word, if any, names it
        shown_scale, exact, shifts = stated_scale, q.value, [0 for _ in amounts]
    else:
        shown_scale = stated_scale or base
        exact = q.value / shown_scale
        shifts = [round(math.log10(shown_scale / (op.scale or base))) for op in amounts]
    if asked is not None:
        d = asked
    else:
        d = max([max(0, op.num.decimals + shift) for op, shift in zip(amounts, shifts)] or [0])
        if abs(round(exact, d) - exact) > 1e-9 * max(1.0, abs(exact)):
            d += 1  # a division left a remainder: one more decimal
    word = SCALE_NAMES.get(shown_scale or 1.0, "") if q.dim == 1 else ""
    show_word = bool(word) and (
        stated_scale is not None or any(op.written_scale for op in amounts) or len({op.scale for op in amounts}) > 1
    )
    currency = q.currency or (stated.currency if stated is not None else "")
    if not ((stated is not None and stated.currency) or any(op.num.currency for op in amounts)):
        currency = ""  # written as the model wrote its numbers
    text = _fmt(exact, d, currency) + (f" {word}" if show_word else "")
    return Shown(text, round(exact, d), exact, f"{q.currency or currency} {word}".strip(), False)


def _differs(shown: Shown, result: arithmetic.Result, stated: Num | None) -> bool:
    """Does the model's own result disagree with the computed one, at the precision the model wrote it?"""
    if stated is None:
        return False
    q = result.quantity
    tol = 0.5 * 10**-stated.decimals
    if shown.percent:
        target = shown.exact
        if not stated.percent and q.kind == "ratio":
            target = q.value
        return abs(stated.value - target) > tol + 1e-9 * abs(target)
    if stated.percent:
        return True
    if q.kind == "ratio":
        return abs(stated.value - q.value) > tol + 1e-9 * abs(q.value)
    if not (q.dim == 1 and q.scale):  # amounts of unknown scale: the model's number as the operands are written
        return abs(stated.value - q.value) > tol + 1e-9 * abs(q.value)
    scale = stated.scale or q.scale
    return abs(stated.value * scale - q.value) > tol * scale + 1e-9 * abs(q.value)


@dataclass
class SentenceCalculations:
    """A sentence's calculations, checked and computed."""

    text: str  # the sentence with each result written by the service (and markers added to operands found by it)
    rest: str  # the sentence without its calculations: what the grounding check still reads
    calculations: list[Calculation] = field(default_factory=list)
    cited: list[int] = field(default_factory=list)  # the sources the operands were found in, in order
    results: list[float] = field(default_factory=list)  # computed values (as shown, and exact) that may be cited


def calculations_in(sentence: str, pools: SourceNumbers, question: str = "") -> SentenceCalculations | None:
    """Check and compute every calculation of a sentence; None when it has none. CalculationError (with the
    reason) when one is not arithmetic, its units disagree, or an operand is not written in a source cited for it."""
    found = find(sentence)
    if not found:
        return None
    marks = (int(x) for m in MARK.finditer(sentence) for x in re.findall(r"\d+", m.group(1)))
    valid = [n for n in dict.fromkeys(marks) if 1 <= n <= len(pools)]
    out = SentenceCalculations(text=sentence, rest=sentence)
    prose: list[str] = []
    rendered: list[str] = []
    replacements: list[tuple[str, str]] = []
    pos = 0
    for f in found:
        calc, shown = _one(f, valid, pools, question, out)
        out.calculations.append(calc)
        prose.append(sentence[pos : f.start])
        rendered.append(shown)
        pos = f.end
        if calc.stated and calc.stated != calc.text:
            replacements.append((calc.stated, calc.text))
    prose.append(sentence[pos:])
    for old, new in replacements:  # the model's result written elsewhere in the sentence too
        prose = [re.sub(rf"(?<![\d.,]){re.escape(old)}(?!\d)", new, p) for p in prose]
    out.text = prose[0] + "".join(r + p for r, p in zip(rendered, prose[1:]))
    out.rest = " ".join(prose)
    out.cited = list(dict.fromkeys(op.citation for c in out.calculations for op in c.operands))
    return out


def _one(f: Found, valid: list[int], pools: SourceNumbers, question: str, out: SentenceCalculations) -> tuple[Calculation, str]:
    node = arithmetic.parse(f.expression)
    operands: list[_Operand] = []
    for num in arithmetic.numbers_of(node):
        own = [n for n in num.marks if 1 <= n <= len(pools)]
        candidates = own or valid or list(range(1, len(pools) + 1))
        operands.append(_resolve(num, candidates, pools, question))
    _settle_scales(operands)
    by_num = {id(op.num): op for op in operands}

    def quantity(num: Num) -> Quantity:
        q = by_num[id(num)].quantity
        assert q is not None
        return q

    res = arithmetic.compute(node, quantity)
    shown = _present(res, operands, f, question)
    replaced = _differs(shown, res, f.stated)
    expression = _with_marks(f.expression, operands)
    rendered = f"{expression} = {shown.text}"
    sourced = [op for op in operands if op.citation is not None]
    calc = Calculation(
        expression=expression,
        operands=[
            Operand(
                value=op.num.value,
                text=op.num.text,
                citation=op.citation,
                quote=op.quote,
                unit=_operand_unit(op),
            )
            for op in sourced
            if op.citation is not None
        ],
        result=shown.value,
        unit=shown.unit,
        text=shown.text,
        stated=f.stated_text or None,
        replaced=replaced,
    )
    out.results += [shown.value, shown.exact]
    return calc, rendered


def _operand_unit(op: _Operand) -> str:
    q = op.quantity
    if q is None or q.kind == "percent":
        return "%" if q is not None else ""
    if q.kind == "ratio":
        return ""
    return f"{op.currency} {SCALE_NAMES.get(op.scale or 1, '')}".strip()


def _with_marks(expression: str, operands: list[_Operand]) -> str:
    """The expression as written, with the marker of its source after each number the model left unmarked."""
    out = expression
    for op in sorted(operands, key=lambda o: -o.num.end):
        if op.num.marks or op.citation is None:
            continue
        end = op.num.end
        out = f"{out[:end]} [{op.citation}]{out[end:]}"
    return out
