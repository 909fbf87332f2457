"""Names of organisations: found on a cover page or in running headers, with their aliases (short forms, tickers,
file-name words), and matched against a question by normalised words."""

import functools
import re
from collections import Counter

# Legal forms as they are written (as printed, or in capitals on a cover page): never in lower case, so "co-expression"
# or "as" in running text is not one.
LEGAL_FORMS = (
    "Inc Corp Corporation Company Co Ltd Limited LLC L.L.C LP L.P plc AG GmbH SA S.A NV N.V SE SpA AB ASA Oyj AS SAS".split()
)
LEGAL = (
    "(?:"
    + "|".join(sorted({re.escape(f) for f in LEGAL_FORMS} | {re.escape(f.upper()) for f in LEGAL_FORMS}, key=len, reverse=True))
    + ")"
)
NAMED = re.compile(
    rf"\b((?:[A-Z0-9][\w&'.-]*,?[ \t]+){{0,5}}?[A-Z0-9][\w&'.-]*)(?:,)?[ \t]+(?:(?:and|&)[ \t]+Subsidiaries[ \t]+)?"
    rf"(?:{LEGAL}\.?,?[ \t]+)?({LEGAL})\b\.?",
)
TICKER = [
    re.compile(r"Trading\s+Symbol\(?s?\)?[^A-Za-z]{0,40}?(?:[A-Z][a-z].{0,120}?)?\b([A-Z]{2,5})\b"),
    re.compile(r"\((?:NYSE|NASDAQ|Nasdaq|NYSE American|LSE|TSX|XETRA)\s*:\s*([A-Z][A-Z.]{1,5})\)"),
]
FILE_NOISE = re.compile(
    r"^(?:\d+|\d{4}q\d|q\d|fy\d+|10k|10q|8k|20f|annual|report|final|draft|v\d+|dated|copy|scan|doc|pdf)$", re.I
)
GENERIC = {
    "the",
    "company",
    "corporation",
    "group",
    "holdings",
    "registrant",
    "inc",
    "smaller reporting",
    "emerging growth",
    "accelerated filer",
    "investment",
    "holding",
    "parent",
    "operating",
}
STARTERS = {"the", "a", "an", "of", "and", "for", "by", "in", "on", "to", "with", "as", "our", "its", "this", "that"}


@functools.lru_cache(maxsize=65536)  # routing normalises the same question and the same names many times a query
def normalise(text: str) -> str:
    """Lower case words separated by single spaces: "Johnson & Johnson's" -> "johnson johnson s"."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower().replace("&", " ")).split())


def short_name(name: str) -> str:
    """The name without its legal form: "Best Buy Co., Inc." -> "Best Buy"."""
    out = re.sub(rf"(?:,?\s+(?:and|&)\s+Subsidiaries)?(?:,?\s+{LEGAL}\.?)+\s*$", "", name.strip(), flags=re.I)
    return out.strip(" ,.")


def tidy(name: str) -> str:
    """A name in the case people write it: all-capital cover lines become title case, "3M" and "CVS" stay."""
    if name.upper() != name:
        return " ".join(name.split())
    keep = lambda w: any(c.isdigit() for c in w) or (len(w) <= 3 and w.isalpha() and w not in ("CO", "INC"))  # noqa: E731
    return " ".join(w if keep(w) else w.capitalize() for w in name.split())


def organisations(texts: list[str], limit: int = 3) -> list[str]:
    """Organisation names written with a legal form, most frequent first (each text, say a page, counts a name
    once: the issuer of a report is named on many pages, boilerplate such as "Smaller Reporting Company" on one)."""
    counts: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for text in texts:
        seen = set()
        for m in NAMED.finditer(text):
            head = re.split(r"(?<=[a-z0-9)])[.;:]\s+", m.group(1))[-1]  # not across a sentence end
            words = head.split()
            numbers = [i for i, w in enumerate(words) if re.fullmatch(r"[\d-]+", w)]
            words = words[numbers[-1] + 1 :] if numbers else words  # "File Number 1-3285 3M COMPANY"
            while words and words[0].lower().strip(",") in STARTERS:
                words = words[1:]
            if not words or normalise(" ".join(words)) in GENERIC:
                continue
            name = tidy(" ".join(words) + m.group(0)[len(m.group(1)) :].rstrip(" ,"))
            key = normalise(short_name(name))
            if key and key not in seen:
                seen.add(key)
                counts[key] += 1
                shown.setdefault(key, name)
    return [shown[k] for k, _ in counts.most_common(limit)]


def abbreviations(name: str) -> list[str]:
    """The short forms people make of a two-word name, as whole words only: initials around an ampersand
    ("Johnson & Johnson" -> "J&J", "JnJ"; "Procter & Gamble" -> "P&G") and blends of the words' first letters
    ("American Express" -> "AmEx", "Federal Express" -> "FedEx"). Kept under six letters, so that they are never
    matched inside other words with spaces ignored (see `mentions`)."""
    words = re.findall(r"[A-Za-z]+|&", name)
    out: list[str] = []
    if len(words) == 3 and words[1].lower() in ("&", "and") and all(len(w) >= 3 for w in (words[0], words[2])):
        a, b = words[0][0].upper(), words[2][0].upper()
        out += [f"{a}&{b}", f"{a}n{b}"]
    if len(words) == 2 and all(len(w) >= 4 and w.isalpha() for w in words):
        a, b = words[0].capitalize(), words[1].capitalize()
        out += [a[:2] + b[:2], a[:3] + b[:2], a[:2] + b[:3]]
    return out


def tickers(text: str) -> list[str]:
    found: list[str] = []
    for pattern in TICKER:
        found += [m.group(1) for m in pattern.finditer(text)]
    return list(dict.fromkeys(t for t in found if t not in ("NYSE", "NONE", "N/A")))


def name_terms(text: str) -> set[str]:
    """The words and adjacent word pairs of a name, normalised, with pairs also written together: "Fabrikam HX-300"
    gives fabrikam, hx, 300, "fabrikam hx", "hx 300", "hx300"."""
    words = normalise(text).split()
    pairs = [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
    return set(words) | set(pairs) | {p.replace(" ", "") for p in pairs}


def file_name_words(name: str) -> str:
    """The words of a file name that may name its subject: "JOHNSON_JOHNSON_2022_10K.pdf" -> "Johnson Johnson"."""
    stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", name)
    words = [w for w in re.split(r"[_\-\s.]+", stem) if w and not FILE_NOISE.match(w) and not re.search(r"\d{4}", w)]
    return tidy(" ".join(words)) if words else ""


def mentions(question: str, alias: str) -> bool:
    """Whether a question names `alias`: as whole normalised words, or, for a long alias, with spaces ignored
    ("Best Buy" and "BESTBUY" name each other)."""
    a, q = normalise(alias), normalise(question)
    if not a or a in GENERIC:
        return False
    if f" {a} " in f" {q} ":
        return True
    compact = a.replace(" ", "")
    return len(compact) >= 6 and compact in q.replace(" ", "")


def names_ticker(question: str, ticker: str) -> bool:
    """A ticker counts only written in capitals as a word of its own ("MMM", not "mmm")."""
    return re.search(rf"(?<![A-Za-z]){re.escape(ticker)}(?![A-Za-z])", question) is not None
