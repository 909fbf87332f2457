"""A document's profile from its layout HTML, file name and PDF metadata. General rules only: a cover page, running
headers, statements of the period covered, names written with a legal form, the words of the file name."""

import re
from collections import Counter

from rag.core.types import DocumentProfile
from rag.profiles.layout_text import LayoutPage, read_layout
from rag.profiles.names import abbreviations, file_name_words, organisations, short_name, tickers
from rag.profiles.periods import Period, parse_period, stated_period, years_in

COVER_PAGES = 3  # pages read as the cover
KINDS = [  # first match wins; read in the title, then the cover, then the file name
    ("10-K", r"\bform\s+10-?k\b|(?<![a-z0-9])10-?k(?![a-z0-9])"),
    ("10-Q", r"\bform\s+10-?q\b|(?<![a-z0-9])10-?q(?![a-z0-9])"),
    ("8-K", r"\bform\s+8-?k\b|(?<![a-z0-9])8-?k(?![a-z0-9])"),
    ("annual report", r"\bannual\s+report\b|\bjahresbericht\b|\brapport\s+annuel\b"),
    ("quarterly report", r"\bquarterly\s+report\b|\binterim\s+report\b"),
    ("earnings release", r"\b(?:earnings|results)\s+(?:release|announcement)\b"),
    ("handbook", r"\bhandbook\b"),
    ("policy", r"\bpolicy\b|\bcode\s+of\s+conduct\b|\bguidelines?\b"),
    ("manual", r"\bmanual\b|\buser\s+guide\b|\binstallation\s+guide\b|\boperating\s+instructions\b"),
    ("invoice", r"\binvoice\b"),
    ("contract", r"\bagreement\b|\bcontract\b"),
    ("minutes", r"\bminutes\s+of\b"),
    ("paper", r"\babstract\b[\s\S]*\b(?:introduction|references)\b"),
]
STOPWORDS = {
    "en": "the of and to in is that for with as are this be by on it from".split(),
    "de": "der die und das ist nicht mit den von zu für auf im dem des".split(),
    "fr": "le la les et des est pour que dans une sur du au par pas".split(),
    "es": "el la los las y de que en por para con una del se es".split(),
    "it": "il la di che è per con una del della non sono gli le".split(),
    "nl": "de het een en van is dat op te met voor zijn niet aan".split(),
    "pt": "o a os as de que em um uma para com não do da se".split(),
}
BAD_TITLES = re.compile(r"^(untitled|document\d*|microsoft word|slide \d+|\W*)$|\.(docx?|pdf|pptx?|xlsx?)$", re.I)


def build_profile(name: str, html: str, metadata: dict[str, str] | None = None, pages: int | None = None) -> DocumentProfile:
    """The profile of the document named `name` whose layout HTML is `html`."""
    metadata = metadata or {}
    layout = read_layout(html)
    cover = "\n".join(p.text(("title", "heading", "text", "header")) for p in layout[:COVER_PAGES])
    headers = running_headers(layout)
    sources: dict[str, str] = {}
    title = _title(layout, metadata, name, sources)
    orgs = organisations([cover, *headers, metadata.get("author", ""), metadata.get("title", "")] + [p.text() for p in layout])
    if orgs:
        sources["organizations"] = "cover page"
    aliases = _aliases(orgs[:1], tickers(cover), file_name_words(name))
    if not orgs and aliases:
        orgs, sources["organizations"] = [aliases[0]], "file name"
    period = _period(cover, headers, title, name, sources)
    return DocumentProfile(
        title=title,
        organizations=orgs,
        aliases=[a for a in aliases if a not in orgs],
        entities=frequent_entities(layout, exclude=orgs + aliases),
        period=period.label if period else "",
        year=period.year if period else None,
        quarter=period.quarter if period else None,
        kind=_kind(title, cover, name, sources),
        language=language("\n".join(p.text() for p in layout[:10])),
        pages=pages if pages is not None else len(layout),
        outline=_outline(layout, metadata, headers),
        sources=sources,
        metadata={k: v for k, v in metadata.items() if k != "outline"},
    )


def running_headers(layout: list[LayoutPage], share: float = 0.2) -> list[str]:
    """Header and footer lines repeated on at least `share` of the pages (digits ignored: page numbers)."""
    counts: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for page in layout:
        for key, text in {
            re.sub(r"\d+", "#", line.text): line.text for line in page.lines if line.kind in ("header", "footer")
        }.items():
            counts[key] += 1
            shown.setdefault(key, text)
    least = max(2, int(share * len(layout)))
    return [shown[k] for k, n in counts.most_common() if n >= least and re.search(r"[A-Za-z]{3}", k)]


def _title(layout: list[LayoutPage], metadata: dict[str, str], name: str, sources: dict[str, str]) -> str:
    meta = re.sub(r"^microsoft (word|powerpoint) - ", "", metadata.get("title", ""), flags=re.I).strip()
    if meta and not BAD_TITLES.search(meta) and len(meta) > 3:
        sources["title"] = "metadata"
        return meta
    for page in layout[:2]:
        for kind in ("title", "heading"):
            line = next((x.text for x in page.lines if x.kind == kind and len(re.findall(r"[^\W\d_]{2,}", x.text)) >= 2), None)
            if line:
                sources["title"] = "first page"
                return line[:200]
    sources["title"] = "file name"
    return re.sub(r"[_]+", " ", re.sub(r"\.[A-Za-z0-9]{1,5}$", "", name)).strip()


def _aliases(orgs: list[str], symbols: list[str], from_file: str) -> list[str]:
    shorts = [short_name(o) for o in orgs]
    out = shorts + symbols[:3] + ([from_file] if from_file else []) + [a for s in shorts for a in abbreviations(s)]
    return list(dict.fromkeys(a for a in out if a and len(a) >= 2))


def _period(cover: str, headers: list[str], title: str, name: str, sources: dict[str, str]) -> Period | None:
    stated = stated_period(cover)
    if stated:
        sources["period"] = "cover page"
        return stated
    for where, text in (("title", title), ("running header", " ".join(headers)), ("file name", name)):
        found = parse_period(text)
        if found:
            sources["period"] = where
            return found
    years = Counter(years_in(cover)).most_common(1)
    if years and years[0][1] >= 2:  # a year said once (a citation, "since 1998") is not the document's period
        sources["period"] = "cover page"
        return Period(years[0][0])
    return None


def _kind(title: str, cover: str, name: str, sources: dict[str, str]) -> str:
    for where, text in (("title", title), ("cover page", cover[:4000]), ("file name", re.sub(r"[_.]", " ", name))):
        for kind, pattern in KINDS:
            if re.search(pattern, text, re.I):
                sources["kind"] = where
                return kind
    return ""


def language(text: str) -> str:
    """The language whose common words are most frequent in `text` (ISO 639-1), or "" when too little text."""
    words = re.findall(r"[a-zàâäéèêëïîôöùûüçßñ]+", text.lower())
    if len(words) < 20:
        return ""
    counts = Counter(words)
    scores = {lang: sum(counts[w] for w in stop) for lang, stop in STOPWORDS.items()}
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] >= 0.05 * len(words) else ""


def _outline(layout: list[LayoutPage], metadata: dict[str, str], headers: list[str], limit: int = 40) -> list[str]:
    if metadata.get("outline"):
        return metadata["outline"].splitlines()[:limit]
    skip = set(headers)
    lines = [x.text for p in layout for x in p.lines if x.kind in ("title", "heading") and x.level <= 2 and x.text not in skip]
    return list(dict.fromkeys(t[:120] for t in lines if len(t) > 3))[:limit]


ENTITY = re.compile(r"\b([A-Z][a-z]+(?:\s+(?:of|de|für|&)?\s*[A-Z][a-z]+){1,3})\b")


def frequent_entities(layout: list[LayoutPage], exclude: list[str], limit: int = 10) -> list[str]:
    """Capitalised phrases of two to four words seen on the most pages (a phrase counts once a page)."""
    counts: Counter[str] = Counter()
    for page in layout:
        counts.update({m.group(1) for m in ENTITY.finditer(page.text())})
    skip = {e.lower() for e in exclude}
    return [e for e, n in counts.most_common(limit * 3) if n >= 2 and e.lower() not in skip][:limit]
