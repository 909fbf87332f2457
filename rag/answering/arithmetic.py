"""Safe arithmetic for the calculations answers show: numbers, + - * /, parentheses, percent and a few named
functions; nothing else. No `eval`, no Python `ast`: a tokenizer of its own and a recursive-descent parser over it.

    expr    := term (("+" | "-") term)*
    term    := unary (("*" | "/") unary)*
    unary   := "-" unary | "+" unary | primary marker*
    primary := number | "(" expr ")" | function "(" expr (("," | ";") expr)* ")"
    number  := [$ € £] digits [% | percent] [thousand | million | billion | trillion | bn | mn]

Digits may carry thousands separators ("1,577": a comma followed by exactly three digits; separate function
arguments with ", " or ";"). A number alone in parentheses is negative, as accounts write it: "(370)" is -370.
"×" and "÷" are * and /; "−" and "–" are minus. A citation marker ("[2]") after a number or a closing parenthesis
says where the number comes from (rag.answering.calculations checks it; here it is only carried along).

Functions: sum(a, ...), average(a, ...) (also avg, mean), change(a, b) = b - a, growth(a, b) = (b - a) / a * 100,
ratio(a, b) = a / b, share(a, b) = a / b * 100.

Every value carries its units (`Quantity`): an amount (money, a count) with its scale (millions, billions) and
currency, a percentage, or a plain ratio; 100 written with no marker is the percent constant. Units must agree:
adding a percentage to an amount, multiplying an amount by a percentage written without its % sign, or a result
that is an amount times 100 is refused (`CalculationError`), as is anything that is not arithmetic: names,
attributes, exponents (`**`, `^`), division by zero, more than `MAX_CHARS` characters, `MAX_NUMBERS` numbers,
`MAX_DEPTH` nested parentheses or numbers of more than `MAX_DIGITS` digits.
"""

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from rag.answering.markers import MARK

MAX_CHARS = 300
MAX_NUMBERS = 30
MAX_DEPTH = 12
MAX_DIGITS = 15
MAX_VALUE = 1e18

SCALE_WORDS = {"thousand": 1e3, "million": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9, "trillion": 1e12}
SCALE_NAMES = {1e3: "thousand", 1e6: "million", 1e9: "billion", 1e12: "trillion"}
FUNCTIONS = {
    "sum": (1, MAX_NUMBERS),
    "average": (1, MAX_NUMBERS),
    "avg": (1, MAX_NUMBERS),
    "mean": (1, MAX_NUMBERS),
    "change": (2, 2),
    "growth": (2, 2),
    "ratio": (2, 2),
    "share": (2, 2),
}
MINUS = "-−–"  # hyphen-minus, minus sign, en dash

DIGITS = r"\d{1,3}(?:,\d{3}(?!\d))+(?:\.\d+)?|\d+(?:\.\d+)?"
NUMBER = re.compile(
    rf"(?P<cur>[$€£])?[ \u00a0]?(?P<num>{DIGITS})"
    r"(?P<pct>[ \u00a0]?(?:%|percent\b|per[ \u00a0]?cent\b))?"
    r"(?:[ \u00a0]?(?P<scale>thousand|million|billion|trillion|bn|mn)s?\b)?",
    re.IGNORECASE,
)
FUNC = re.compile(r"([A-Za-z_][A-Za-z_0-9]*)\s*\(")
NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
ATTRIBUTE = re.compile(r"\.\s*[A-Za-z_]")
SPACE = re.compile(r"\s+")


class CalculationError(ValueError):
    """A calculation that is not plain arithmetic over numbers whose units agree, or that cannot be computed."""


@dataclass
class Token:
    kind: str  # num, mark, op, lp, rp, sep, func
    text: str
    start: int
    end: int
    marks: tuple[int, ...] = ()  # mark: the source numbers it cites
    name: str = ""  # func: its canonical name


@dataclass
class Num:
    """A number as written: "$1,577 million" -> value 1577.0, decimals 0, currency "$", scale 1e6."""

    text: str
    value: float  # the digits' value, signed
    decimals: int
    start: int
    end: int
    negative: bool = False  # written "(370)" or "-370"
    percent: bool = False  # written with % or "percent"
    scale: float | None = None  # a scale word written after it
    currency: str = ""
    marks: tuple[int, ...] = ()  # the citation markers written after it (or after its parenthesis)


@dataclass
class Neg:
    arg: "Node"


@dataclass
class Bin:
    op: str
    left: "Node"
    right: "Node"


@dataclass
class Call:
    name: str
    args: list["Node"]


Node = Num | Neg | Bin | Call


@dataclass(frozen=True)
class Quantity:
    """A value with its units. Amounts are in base units (1,577 million is 1.577e9); a percentage is in points
    (4.5% is 4.5, `hundreds` 1); `hundreds` counts the factors of 100 a value carries, so (a / b) * 100 is a
    percentage and (b - a) * 100 / a too."""

    value: float
    dim: int = 0  # 1: an amount; 0: a ratio or percentage; 2: a product of amounts
    hundreds: int = 0
    scale: float | None = None  # an amount's scale (1e6: millions), None when unknown
    currency: str = ""
    bare: bool = False  # a percentage written without its % sign (its source writes it as a percentage)
    const: bool = False  # the constant 100
    points: bool = False  # a difference of percentages: percentage points

    @property
    def kind(self) -> str:
        if self.dim == 0 and self.hundreds == 1:
            return "percent"
        if self.dim == 0 and self.hundreds == 0:
            return "ratio"
        if self.dim > 0 and self.hundreds == 0:
            return "amount"
        return "mixed"


def _describe(q: Quantity) -> str:
    return {"percent": "a percentage", "ratio": "a ratio", "amount": "an amount"}.get(q.kind, "a mixed value")


def tokenize(text: str) -> list[Token]:
    """The tokens of an expression; anything that is not arithmetic raises CalculationError."""
    if len(text) > MAX_CHARS:
        raise CalculationError(f"the expression is longer than {MAX_CHARS} characters")
    out: list[Token] = []
    pos = 0
    while pos < len(text):
        ch = text[pos]
        if ch.isspace():
            pos = SPACE.match(text, pos).end()  # type: ignore[union-attr]
            continue
        if m := MARK.match(text, pos):
            out.append(Token("mark", m.group(), pos, m.end(), marks=tuple(int(x) for x in re.findall(r"\d+", m.group(1)))))
        elif text.startswith("**", pos) or ch == "^":
            raise CalculationError("exponents are not allowed")
        elif m := NUMBER.match(text, pos):
            if len(re.sub(r"\D", "", m.group("num"))) > MAX_DIGITS:
                raise CalculationError(f"a number of more than {MAX_DIGITS} digits")
            if ATTRIBUTE.match(text, m.end()):
                raise CalculationError("attributes are not allowed")
            out.append(Token("num", m.group(), pos, m.end()))
        elif m := FUNC.match(text, pos):
            name = m.group(1).lower()
            if name not in FUNCTIONS:
                raise CalculationError(f"names are not allowed: {m.group(1)!r}")
            out.append(Token("func", m.group(), pos, m.end(), name={"avg": "average", "mean": "average"}.get(name, name)))
        elif m := NAME.match(text, pos):
            raise CalculationError(f"names are not allowed: {m.group()!r}")
        elif ATTRIBUTE.match(text, pos):
            raise CalculationError("attributes are not allowed")
        elif ch in "+*/×÷" or ch in MINUS:
            out.append(Token("op", {"×": "*", "÷": "/"}.get(ch, "-" if ch in MINUS else ch), pos, pos + 1))
        elif ch in "()":
            out.append(Token("lp" if ch == "(" else "rp", ch, pos, pos + 1))
        elif ch in ",;":
            out.append(Token("sep", ch, pos, pos + 1))
        else:
            raise CalculationError(f"unexpected character {ch!r}")
        pos = out[-1].end
    if sum(t.kind == "num" for t in out) > MAX_NUMBERS:
        raise CalculationError(f"more than {MAX_NUMBERS} numbers")
    return out


def number(token: Token, negative: bool = False) -> Num:
    m = NUMBER.fullmatch(token.text)
    assert m is not None
    digits = m.group("num").replace(",", "")
    scale = m.group("scale")
    value = float(digits)
    return Num(
        text=token.text,
        value=-value if negative else value,
        decimals=len(digits.split(".")[1]) if "." in digits else 0,
        start=token.start,
        end=token.end,
        negative=negative,
        percent=bool(m.group("pct")),
        scale=SCALE_WORDS[scale.lower()] if scale else None,
        currency=m.group("cur") or "",
    )


class _Parser:
    def __init__(self, tokens: list[Token]):
        self.tokens, self.i, self.depth = tokens, 0, 0

    def peek(self, offset: int = 0) -> Token | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def take(self, kind: str) -> Token:
        t = self.peek()
        if t is None or t.kind != kind:
            want = {"rp": "a closing parenthesis"}.get(kind, kind)
            raise CalculationError(f"expected {want} at {'the end' if t is None else repr(t.text)}")
        self.i += 1
        return t

    def parse(self) -> Node:
        if not self.tokens:
            raise CalculationError("the expression is empty")
        node = self.expr()
        if (t := self.peek()) is not None:
            raise CalculationError(f"unexpected {t.text!r}")
        return node

    def expr(self) -> Node:
        node = self.term()
        while (t := self.peek()) is not None and t.kind == "op" and t.text in "+-":
            self.i += 1
            node = Bin(t.text, node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while (t := self.peek()) is not None and t.kind == "op" and t.text in "*/":
            self.i += 1
            node = Bin(t.text, node, self.unary())
        return node

    def unary(self) -> Node:
        t = self.peek()
        if t is not None and t.kind == "op" and t.text in "+-":
            self.i += 1
            nxt = self.peek()
            if t.text == "-" and nxt is not None and nxt.kind == "num" and nxt.start == t.end:  # "-370": one number
                self.i += 1
                num = number(nxt, negative=True)
                num.text, num.start = t.text + num.text, t.start
                return self.marks(num)
            arg = self.unary()
            return Neg(arg) if t.text == "-" else arg
        return self.marks(self.primary())

    def marks(self, node: Node) -> Node:
        found: tuple[int, ...] = ()
        while (t := self.peek()) is not None and t.kind == "mark":
            self.i += 1
            found += t.marks
        if found:
            _cite(node, found)
        return node

    def primary(self) -> Node:
        t = self.peek()
        if t is None:
            raise CalculationError("the expression ends too early")
        if t.kind == "num":
            self.i += 1
            return number(t)
        if t.kind in ("lp", "func"):
            self.i += 1
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise CalculationError(f"more than {MAX_DEPTH} nested parentheses")
            if t.kind == "lp":
                inner = self.peek(), self.peek(1), self.peek(2)
                node = self.expr()
                self.take("rp")
                self.depth -= 1
                if isinstance(node, Num) and inner[0] is not None and inner[0].kind == "num":
                    if inner[1] is not None and (
                        inner[1].kind == "rp" or (inner[1].kind == "mark" and inner[2] and inner[2].kind == "rp")
                    ):
                        node.value, node.negative = -abs(node.value), True  # "(370)": negative, as accounts write it
                        node.text = f"({node.text})"
                return node
            args = [self.expr()]
            while (s := self.peek()) is not None and s.kind == "sep":
                self.i += 1
                args.append(self.expr())
            self.take("rp")
            self.depth -= 1
            low, high = FUNCTIONS[t.name]
            if not low <= len(args) <= high:
                want = str(low) if low == high else f"{low} to {high}"
                raise CalculationError(f"{t.name} takes {want} numbers, got {len(args)}")
            return Call(t.name, args)
        raise CalculationError(f"unexpected {t.text!r}")


def _cite(node: Node, marks: tuple[int, ...]) -> None:
    """Give `marks` to every number under `node` that has none of its own."""
    for num in numbers_of(node):
        if not num.marks:
            num.marks = marks


def parse(text: str) -> Node:
    """The expression's tree; CalculationError when it is not arithmetic."""
    return _Parser(tokenize(text)).parse()


def numbers_of(node: Node) -> list[Num]:
    """The numbers of an expression, left to right."""
    if isinstance(node, Num):
        return [node]
    if isinstance(node, Neg):
        return numbers_of(node.arg)
    if isinstance(node, Bin):
        return numbers_of(node.left) + numbers_of(node.right)
    return [n for a in node.args for n in numbers_of(a)]


def is_constant(num: Num) -> bool:
    """The percent constant: 100 written plainly, with no marker, unit or sign."""
    return num.value == 100 and not (num.marks or num.percent or num.scale or num.currency or num.negative or num.decimals)


def literal(num: Num) -> Quantity:
    """A number taken as written, with no source to say what it is: 100 is the percent constant, "4.5%" a
    percentage, anything else an amount in the scale written after it."""
    if is_constant(num):
        return Quantity(100.0, const=True)
    if num.percent:
        return Quantity(num.value, hundreds=1)
    return Quantity(num.value * (num.scale or 1), dim=1, scale=num.scale, currency=num.currency)


def _check(q: Quantity) -> Quantity:
    if not math.isfinite(q.value) or abs(q.value) > MAX_VALUE:
        raise CalculationError("the result is too large")
    return q


def add(a: Quantity, b: Quantity, op: str) -> Quantity:
    if a.const or b.const:
        raise CalculationError("100 may only multiply or divide (to make a percentage)")
    if (a.dim, a.hundreds) != (b.dim, b.hundreds):
        raise CalculationError(
            f"{'adds' if op == '+' else 'subtracts'} {_describe(b)} {'to' if op == '+' else 'from'} {_describe(a)}"
        )
    if a.currency and b.currency and a.currency != b.currency:
        raise CalculationError(f"mixes currencies ({a.currency} and {b.currency})")
    scales = [s for s in (a.scale, b.scale) if s]
    return _check(
        Quantity(
            a.value + b.value if op == "+" else a.value - b.value,
            dim=a.dim,
            hundreds=a.hundreds,
            scale=min(scales) if scales else None,
            currency=a.currency or b.currency,
            bare=a.bare or b.bare,
            points=a.points or b.points or (op == "-" and a.kind == "percent"),
        )
    )


def multiply(a: Quantity, b: Quantity) -> Quantity:
    if a.const and b.const:
        raise CalculationError("100 times 100")
    if b.const or a.const:
        x = a if b.const else b
        if x.kind == "percent":
            raise CalculationError("a percentage multiplied by 100")
        return _check(replace(x, value=x.value * 100, hundreds=x.hundreds + 1, bare=False, points=False))
    for p, x in ((a, b), (b, a)):
        if p.kind == "percent" and x.dim > 0:
            if p.bare:
                raise CalculationError("a percentage written without its % sign multiplies an amount")
            return _check(replace(x, value=x.value * p.value / 100))
    if a.kind == "percent" and b.kind == "percent":
        raise CalculationError("a percentage times a percentage")
    return _product(a, b, a.value * b.value, a.dim + b.dim, a.hundreds + b.hundreds)


def divide(a: Quantity, b: Quantity) -> Quantity:
    if b.value == 0:
        raise CalculationError("division by zero")
    if a.const:
        raise CalculationError("100 divided by a number")
    if b.const:
        if a.kind == "percent":  # 4.5 (a percentage) / 100 -> the fraction 0.045
            return _check(replace(a, value=a.value / 100, hundreds=0, bare=False, points=False))
        return _check(replace(a, value=a.value / 100, hundreds=a.hundreds - 1))
    if b.kind == "percent" and a.dim > 0:
        if b.bare:
            raise CalculationError("an amount divided by a percentage written without its % sign")
        return _check(replace(a, value=a.value / (b.value / 100)))
    if a.kind == "percent" and b.kind == "percent":
        return _check(Quantity(a.value / b.value))
    return _product(a, b, a.value / b.value, a.dim - b.dim, a.hundreds - b.hundreds)


def _product(a: Quantity, b: Quantity, value: float, dim: int, hundreds: int) -> Quantity:
    if dim < 0 or dim > 2:
        raise CalculationError("the result is not an amount, a ratio or a percentage")
    if dim == 1:  # an amount scaled by a ratio keeps its scale and currency
        amount = a if a.dim == 1 else b
        return _check(Quantity(value, dim=1, hundreds=hundreds, scale=amount.scale, currency=amount.currency))
    bare = (a.bare or b.bare) and hundreds == 1
    return _check(Quantity(value, dim=dim, hundreds=hundreds, bare=bare))


def evaluate_node(node: Node, operand: Callable[[Num], Quantity] = literal) -> Quantity:
    """The value of a tree, each number turned into a Quantity by `operand`."""
    if isinstance(node, Num):
        return _check(operand(node))
    if isinstance(node, Neg):
        q = evaluate_node(node.arg, operand)
        if q.const:
            raise CalculationError("-100 is not the percent constant")
        return replace(q, value=-q.value)
    if isinstance(node, Bin):
        a, b = evaluate_node(node.left, operand), evaluate_node(node.right, operand)
        if node.op in "+-":
            return add(a, b, node.op)
        return multiply(a, b) if node.op == "*" else divide(a, b)
    args = [evaluate_node(a, operand) for a in node.args]
    if node.name in ("sum", "average"):
        total = args[0]
        for q in args[1:]:
            total = add(total, q, "+")
        if total.const:
            raise CalculationError(f"{node.name} of the constant 100")
        return total if node.name == "sum" else replace(total, value=total.value / len(args))
    a, b = args
    if node.name == "change":
        return add(b, a, "-")
    if node.name == "ratio":
        return divide(a, b)
    if node.name == "share":
        return multiply(divide(a, b), Quantity(100.0, const=True))
    if (a.dim, a.hundreds) != (b.dim, b.hundreds) or a.const or b.const:  # growth
        raise CalculationError(f"growth from {_describe(a)} to {_describe(b)}")
    return multiply(divide(add(b, a, "-"), a), Quantity(100.0, const=True))


@dataclass
class Result:
    """A computed value and what it is."""

    quantity: Quantity
    node: Node
    numbers: list[Num] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.quantity.kind

    @property
    def value(self) -> float:
        """The value as one writes it: a percentage in points, an amount in its scale (millions as millions)."""
        q = self.quantity
        return q.value / q.scale if q.kind == "amount" and q.dim == 1 and q.scale else q.value


def compute(node: Node, operand: Callable[[Num], Quantity] = literal) -> Result:
    """The value of a parsed expression; CalculationError when nothing is computed or its units disagree."""
    q = evaluate_node(node, operand)
    if q.const:
        raise CalculationError("nothing is computed")
    if q.kind == "mixed":
        raise CalculationError("the result mixes a percentage with an amount (an amount times or divided by 100?)")
    return Result(q, node, numbers_of(node))


def evaluate(text: str, operand: Callable[[Num], Quantity] = literal) -> Result:
    """Parse and compute `text`; CalculationError for anything but arithmetic whose units agree.

    >>> evaluate("(1,577 / 32,765) * 100").value  # doctest: +ELLIPSIS
    4.81...
    """
    return compute(parse(text), operand)
