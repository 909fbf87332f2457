"""A follow-up question rewritten into a standalone question, before retrieval.

"and in 2019?" after "What was Siemens' revenue in 2018?" is searched as "What was Siemens' revenue in 2019?".
Rules do it where they suffice (pure logic, no model):

- **elliptical follow-ups**, a short phrase with no verb, often after "and", "what about", "how about", "same for":
  a period ("in 2019", "Q3", "the third quarter", "FY2020") replaces the previous question's period (or is added);
  a name ("Siemens") replaces its one name; a phrase with a preposition ("outside Europe") replaces its phrase of
  the same kind of preposition (or is added); a noun phrase ("its margin", "the hotel allowance") replaces the
  thing it asked about ("What was Apple's **revenue** in 2019?"); "compared to 2018" is added to it;
- **references**: "it", "its", "they", "them", "their" become the previous question's subject (its one name, or
  the thing it asked about); "that year", "the same period" become its period;
- a leading "and", "also", "so" before an otherwise complete question is dropped.

Where a follow-up needs its context and no rule applies (a pronoun with two candidates, "he" or "she", a "who"
question's answer, "this", "there"), `rewrite_by_rules` says so (None) and the caller asks the model
(`model_messages`, `parse_model_reply`); a question that needs nothing is kept as it is.
"""

import re
from dataclasses import dataclass

from rag.answering.markers import strip_marks

UNCHANGED, RULES, MODEL, UNRESOLVED = "unchanged", "rules", "model", "unresolved"
MAX_QUESTION = 2000


@dataclass(frozen=True)
class Turn:
    """One answered turn of a conversation: its standalone question and the answer's text."""

    question: str
    answer: str = ""


@dataclass(frozen=True)
class Rewrite:
    """The question to search and answer, how it was made (`method`), and which rule made it."""

    question: str
    method: str = UNCHANGED  # unchanged | rules | model | unresolved (the model was not asked, or failed)
    rule: str = ""


# ---- words and patterns ------------------------------------------------------------------------------------------
YEAR = r"(?:19|20)\d{2}"
MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
).split()
_ORDINAL = r"(?:first|second|third|fourth|1st|2nd|3rd|4th)"
_PERIOD = (
    rf"(?:(?:the\s+)?{_ORDINAL}\s+(?:quarter|half)(?:\s+(?:of\s+)?(?:fiscal\s+(?:year\s+)?|FY\s*)?{YEAR})?"
    rf"|(?:Q[1-4]|[1-4]Q|H[12])(?:\s*(?:of\s+)?(?:FY\s*|fiscal\s+)?'?(?:{YEAR}|\d{{2}}))?"
    rf"|(?:the\s+)?(?:fiscal|calendar)(?:\s+year)?\s+{YEAR}"
    rf"|FY\s*'?(?:{YEAR}|\d{{2}})"
    rf"|(?:the\s+)?year\s+{YEAR}"
    rf"|(?:{'|'.join(MONTHS)})\.?\s+{YEAR}"
    rf"|{YEAR}(?:\s*(?:-|–|to|through)\s*{YEAR})?)"
)
PERIOD_PREPS = ("in", "for", "during", "of", "by", "as of", "at the end of", "until", "through", "from", "since")
_PERIOD_PREP = r"(?:as\s+of|at\s+the\s+end\s+of|in|for|during|of|by|until|through|from|since)"
PERIOD = re.compile(rf"(?:(?P<prep>{_PERIOD_PREP})\s+)?(?P<period>\b{_PERIOD}\b)", re.IGNORECASE)
_PERIOD_ONLY = re.compile(
    rf"(?:{_PERIOD_PREP}\s+)?{_PERIOD}(?:\s*(?:,|and|or|vs\.?|versus)\s*(?:{_PERIOD_PREP}\s+)?{_PERIOD})*",
    re.IGNORECASE,
)
_PERIOD_JOIN = re.compile(r"\s*(?:,|and|or|to|-|–|through|vs\.?|versus)\s*", re.IGNORECASE)

# Leads of an elliptical follow-up, longest first; what follows them is the phrase that replaces part of the
# previous question.
LEADS = (
    "and what about",
    "and how about",
    "what about",
    "how about",
    "and the same for",
    "the same for",
    "same question for",
    "same question but",
    "same for",
    "same but",
    "what of",
    "and also",
    "and",
    "also",
    "but",
    "or",
    "so",
    "now",
    "then",
    "ok",
    "okay",
)
_LEAD = re.compile(r"^(?:" + "|".join(re.escape(x).replace(r"\ ", r"\s+") for x in LEADS) + r")\b[\s,]*", re.IGNORECASE)
# Words that make a phrase a sentence of its own (not an ellipsis): question words, auxiliaries, common verbs.
CLAUSE_WORDS = set(
    "what which who whom whose when where why how is are was were be been being am do does did has have had "
    "can could will would shall should may might must get gets got give gives gave show shows showed tell list "
    "explain describe compare".split()
)
COMPARE = re.compile(r"^(?:compared\s+(?:to|with)|versus|vs\.?|relative\s+to|against)\b", re.IGNORECASE)
# Prepositions and the kind each belongs to: a follow-up's phrase replaces the previous question's phrase of a kind.
PREP_KIND = {
    "in": "place",
    "within": "place",
    "inside": "place",
    "outside": "place",
    "across": "place",
    "throughout": "place",
    "at": "at",
    "on": "on",
    "for": "for",
    "to": "to",
    "into": "to",
    "from": "from",
    "with": "with",
    "without": "with",
    "by": "by",
    "under": "under",
    "over": "under",
    "above": "under",
    "below": "under",
    "per": "per",
    "between": "between",
    "among": "between",
    "during": "during",
    "of": "of",
    "about": "about",
}
STOP_AFTER = set(PREP_KIND) | {"compared", "versus", "vs", "and", "or", "than", "as", "when", "if", "that", "which"}
DETERMINERS = ("the", "a", "an", "its", "their", "his", "her", "this", "that", "these", "those", "our", "your")
REFERRING = {"it": "", "its": "'s", "they": "", "them": "", "their": "'s", "itself": ""}
PERSONAL = {"he", "she", "him", "his", "her", "hers", "himself", "herself"}
DEMONSTRATIVE = {"this", "these", "those", "there", "that"}
PERIOD_REFS = re.compile(r"\b(?:in\s+)?(?:that|the\s+same|this)\s+(?:year|period|quarter|month|fiscal\s+year)\b", re.IGNORECASE)
# "it" that refers to nothing: "how long does it take", "is it possible", "it is required".
EXPLETIVE = re.compile(
    r"\b(?:does|did|do|will|would)\s+it\s+(?:take|cost|mean|matter)\b"
    r"|\b(?:is|was|will)\s+it\s+(?:be\s+)?(?:possible|true|allowed|necessary|required|mandatory|ok|okay|permitted|"
    r"legal|enough|worth|likely|better|best|recommended)\b"
    r"|\bit\s+(?:is|was)\s+(?:possible|true|allowed|necessary|required|mandatory|permitted|recommended)\b"
    r"|\bit\s+takes?\b",
    re.IGNORECASE,
)
# Capitalised words that are no names: units and currencies, months, and words of questions.
NOT_NAMES = {
    *(m.capitalize() for m in MONTHS),
    *"I EUR USD GBP CHF JPY CNY SEK NOK DKK KWh MWh GWh TWh kWh MW GW KW".split(),
    *"What Which Who Whom Whose When Where Why How Is Are Was Were Do Does Did Can Could Will Would".split(),
}
NAME_JOINERS = {"of", "&", "and", "de", "la", "du", "van", "von", "der"}
_WORD = re.compile(r"[A-Za-z0-9][\w&.'’-]*")


# ---- rules -----------------------------------------------------------------------------------------------------------
def rewrite_by_rules(question: str, history: list[Turn]) -> Rewrite | None:
    """The standalone question by rules; None when the question needs its context and no rule can give it
    (then the model should). Without history, or when nothing refers back, the question is kept."""
    q = _tidy(question)
    if not history or not q:
        return Rewrite(q)
    prev = _tidy(history[-1].question)
    if not prev:
        return Rewrite(q)
    rest = q.rstrip("?.! ")
    lead = False
    while m := _LEAD.match(rest):  # "ok, and for 2020?": every lead goes
        lead, rest = True, rest[m.end() :].strip(" ,")
    if lead and not rest:  # "and?" alone
        return None
    if 0 < len(_words(rest)) <= 3 and set(_words(rest)) <= CLAUSE_WORDS | {"so", "much", "many", "long", "often"}:
        return None  # "why?", "how much?", "when was that": about what?
    if _elliptical(rest):
        return _ellipsis(rest, prev, lead)
    if lead and not _refers_back(rest):  # "And what are the core working hours?": the lead is dropped
        return Rewrite(_finish(rest, q), RULES, "conjunction")
    return _references(_finish(rest, q) if lead else q, prev)


def _tidy(text: str) -> str:
    return re.sub(r"\s+", " ", (text or "").strip())[:MAX_QUESTION]


def _finish(text: str, like: str = "?") -> str:
    """A question as written back: capitalised, ending as the follow-up did ("?" unless it ended otherwise)."""
    text = text.strip().rstrip("?.! ,")
    end = like.strip()[-1:] if like.strip()[-1:] in "?.!" else "?"
    return (text[:1].upper() + text[1:] + end) if text else text


def _words(text: str) -> list[str]:
    return [w.lower().strip("'’") for w in _WORD.findall(text)]


def _elliptical(rest: str) -> bool:
    """A phrase with no verb of its own: at most 7 words, none a question word or auxiliary."""
    words = _words(rest)
    return 0 < len(words) <= 7 and not (set(words) & CLAUSE_WORDS) and not (set(words) & PERSONAL)


def _refers_back(text: str) -> bool:
    words = set(_words(text))
    return bool(words & (set(REFERRING) | PERSONAL | DEMONSTRATIVE)) or bool(PERIOD_REFS.search(text))


def _ellipsis(phrase: str, prev: str, led: bool) -> Rewrite | None:
    """Replace the part of `prev` that `phrase` stands for (or add `phrase` to it)."""
    body = prev.rstrip("?.! ")
    if _PERIOD_ONLY.fullmatch(phrase):
        return _swap_period(phrase, prev)
    if COMPARE.match(phrase):
        return Rewrite(_finish(f"{body} {phrase}", prev), RULES, "comparison")
    first = phrase.split()[0].lower()
    if first in PREP_KIND:
        return _swap_phrase(phrase, prev)
    names = names_in(phrase, start=0)
    if names and _is_name_phrase(phrase):
        return _swap_name(phrase, prev)
    return _swap_topic(phrase, prev, led)


def _swap_period(phrase: str, prev: str) -> Rewrite | None:
    spans = period_spans(prev)
    body = prev.rstrip("?.! ")
    own_prep = PERIOD.match(phrase)
    has_prep = bool(own_prep and own_prep.group("prep"))
    if not spans:
        added = phrase if has_prep else f"in {phrase}"
        return Rewrite(_finish(f"{body} {added}", prev), RULES, "period")
    if len(spans) > 1:  # "2019 revenue compared to 2018": which one is meant?
        return None
    start, end, inner = spans[0]  # "in 2018": with its own preposition the phrase replaces it all, else the period
    if own_prep and has_prep:
        phrase = phrase[: own_prep.end("prep")].lower() + phrase[own_prep.end("prep") :]
    return Rewrite(_finish(body[: start if has_prep else inner] + phrase + body[end:], prev), RULES, "period")


def period_spans(text: str) -> list[tuple[int, int, int]]:
    """The periods a question names, as (start, end, start of the period after its preposition); periods joined by
    "and", "to", "," count as one span."""
    spans: list[tuple[int, int, int]] = []
    for m in PERIOD.finditer(text):
        start, end, inner = m.start(), m.end(), m.start("period")
        if spans and _PERIOD_JOIN.fullmatch(text[spans[-1][1] : start]):
            spans[-1] = (spans[-1][0], end, spans[-1][2])
        else:
            spans.append((start, end, inner))
    return spans


def _swap_phrase(phrase: str, prev: str) -> Rewrite | None:
    """ "outside Europe" replaces "within Europe": the last phrase of `prev` whose preposition is the same, else of
    the same kind; added when there is none."""
    body = prev.rstrip("?.! ")
    prep = phrase.split()[0].lower()
    kind = PREP_KIND[prep]
    found = [(m.start(), m.group(1).lower()) for m in re.finditer(r"\b(" + "|".join(PREP_KIND) + r")\b", body, re.I)]
    same = [s for s, p in found if p == prep] or [s for s, p in found if PREP_KIND[p] == kind]
    if not same:
        return Rewrite(_finish(f"{body} {phrase}", prev), RULES, "phrase")
    start = same[-1]
    later = [s for s, _ in found if s > start]
    end = later[0] if later else len(body)
    tail = body[end:]
    return Rewrite(_finish(body[:start] + phrase + (" " + tail.lstrip() if tail else ""), prev), RULES, "phrase")


def _is_name_phrase(phrase: str) -> bool:
    """A phrase that is a name (every word capitalised but joiners): "Siemens", "Bank of America", "ABB"."""
    words = phrase.split()
    return bool(words) and all(w[:1].isupper() or w[:1].isdigit() or w.lower() in NAME_JOINERS for w in words)


def _swap_name(phrase: str, prev: str) -> Rewrite | None:
    names = names_in(prev)
    distinct = {n[2] for n in names}
    if len(distinct) != 1:  # none, or two: which one does the follow-up replace?
        return None
    body = prev.rstrip("?.! ")
    old = names[0][2]
    out = re.sub(re.escape(old), phrase.strip(), body)
    return Rewrite(_finish(out, prev), RULES, "name")


def _swap_topic(phrase: str, prev: str, led: bool) -> Rewrite | None:
    """ "its margin" after "What was Apple's revenue in 2019?": the thing asked about is replaced."""
    words = phrase.split()
    if words[0].lower() in DEMONSTRATIVE:  # "that plant": which one? the model decides
        return None
    determined = words[0].lower() in DETERMINERS
    noun = " ".join(words[1:] if determined else words)
    if not noun or (len(words) == 1 and not led):
        return None  # a bare word: a topic, a name written small, an answer? the model decides
    topic = topic_span(prev)
    if topic is None:
        return None
    start, end = topic
    body = prev.rstrip("?.! ")
    return Rewrite(_finish(body[:start] + noun + body[end:], prev), RULES, "topic")


_FRAME = re.compile(
    r"^(?:what|which|how\s+much|how\s+many|how\s+high|how\s+large|how\s+big)\s+"
    r"(?:is|are|was|were|will\s+be|has\s+been|had\s+been|have\s+been)\s+",
    re.IGNORECASE,
)


def topic_span(question: str) -> tuple[int, int] | None:
    """Where a "what is/was the X of/in ..." question names the thing it asks about: X, after a determiner or a
    possessive name ("Apple's revenue"), up to the first preposition. None for other question forms."""
    m = _FRAME.match(question)
    if not m:
        return None
    pos = m.end()
    rest = question[pos:]
    lead = re.match(r"(?:(?:the|a|an|its|their)\s+|(?:[A-Z][\w&.-]*\s+){0,3}[A-Z][\w&.-]*(?:'s|’s|')\s+)", rest)
    if lead:
        pos += lead.end()
    words = list(re.finditer(r"[\w&'’.-]+", question[pos:]))
    end = None
    for i, w in enumerate(words):
        if w.group().lower() in STOP_AFTER or (i and w.group()[:1].isdigit()):
            break
        end = pos + w.end()
    if end is None or len(question[pos:end].split()) > 6:
        return None
    return pos, end


def topic_of(question: str) -> str | None:
    """The thing a "what is the X ..." question asks about, with its determiner or owner ("the daily meal
    allowance", "Siemens' total revenues")."""
    m = _FRAME.match(question)
    span = topic_span(question)
    if not m or span is None:
        return None
    return question[m.end() : span[1]]


def names_in(text: str, start: int = 1) -> list[tuple[int, int, str]]:
    """Names in a question: runs of capitalised words (joined by "of", "&", ...), not at its first word (`start`),
    without units, months, question words or periods; a possessive ending is left out. (start, end, name)."""
    tokens = list(_WORD.finditer(text))
    periods = [(m.start(), m.end()) for m in PERIOD.finditer(text)]
    out: list[tuple[int, int, str]] = []
    run: list[re.Match] = []

    def close() -> None:
        while run and run[-1].group().lower() in NAME_JOINERS:
            run.pop()
        if run:
            s, e = run[0].start(), run[-1].end()
            name = text[s:e]
            name = re.sub(r"(?:'s|’s|'|’)$", "", name)
            out.append((s, s + len(name), name))
        run.clear()

    for i, t in enumerate(tokens):
        word = t.group().rstrip(".")
        capital = word[:1].isupper() or (word[:1].isdigit() and any(c.isalpha() for c in word) and word.isupper())
        in_period = any(a <= t.start() < b for a, b in periods)
        is_name = capital and i >= start and not in_period and re.sub(r"(?:'s|’s|')$", "", word) not in NOT_NAMES
        if is_name:
            run.append(t)
        elif run and word.lower() in NAME_JOINERS and i + 1 < len(tokens) and tokens[i + 1].group()[:1].isupper():
            run.append(t)
        else:
            close()
    close()
    return out


def subject_of(question: str, owner: bool = False) -> str | None:
    """What a pronoun of the next question stands for: for "it", "they" the thing a "what is the X" question asked
    about ("Siemens' total revenues"), else its one name; for "its", "their" (`owner`) its one name, else that thing.
    None when there are two names, or the question asked "who" (the answer is the subject then)."""
    if re.match(r"^\s*who\b", question, re.IGNORECASE):
        return None
    names = {n[2] for n in names_in(question)}
    if len(names) > 1:
        return None
    one = next(iter(names), None)
    topic = topic_of(question)
    return (one or topic) if owner else (topic or one)


def _references(q: str, prev: str) -> Rewrite | None:
    """Pronouns and "that year" replaced by the previous question's subject and period."""
    words = set(_words(q))
    if words & PERSONAL:
        return None
    out, rule = q, ""
    if PERIOD_REFS.search(out):
        spans = period_spans(prev)
        if len(spans) != 1:
            return None
        start, end, inner = spans[0]
        period = prev[inner:end]
        out = PERIOD_REFS.sub(lambda m: ("in " if m.group().lower().startswith("in ") else "") + period, out)
        rule = "period reference"
    expletive = EXPLETIVE.search(out)
    pronouns = [w for w in REFERRING if re.search(rf"\b{w}\b", out, re.IGNORECASE)]
    if pronouns == ["it"] and expletive and len(re.findall(r"\bit\b", out, re.IGNORECASE)) == 1:
        pronouns = []
    demonstrative = [w for w in DEMONSTRATIVE if re.search(rf"\b{w}\b", out, re.IGNORECASE)]
    if demonstrative and not _only_conjunction_that(out):
        return None
    if not pronouns:
        return Rewrite(_finish(out, q), RULES, rule) if rule else Rewrite(q)
    subjects = {w: subject_of(prev, owner=bool(REFERRING[w])) for w in pronouns}
    if None in subjects.values():
        return None

    def replace(m: re.Match) -> str:
        word = m.group().lower()
        subject = subjects[word] or ""
        suffix = REFERRING[word]
        if suffix and subject.endswith("s"):
            suffix = "'"
        return subject + suffix

    out = re.sub(r"\b(?:" + "|".join(pronouns) + r")\b", replace, out, flags=re.IGNORECASE)
    return Rewrite(_finish(out, q), RULES, "pronoun" if not rule else rule + ", pronoun")


CONJUNCTION_BEFORE = {"true", "say", "says", "said", "mean", "means", "know", "sure", "so", "such", "than", "fact", "now"}
CLAUSE_AFTER = {"the", "a", "an", "we", "they", "it", "i", "you", "employees", "staff", "there", "no", "all", "any"}


def _only_conjunction_that(text: str) -> bool:
    """Whether no demonstrative points back: none but "that", and each "that" a conjunction ("is it true that the
    ...", "does it mean that we ...") rather than a pointer ("that plant", "what about that?")."""
    words = _words(text)
    if any(w in DEMONSTRATIVE - {"that"} for w in words):
        return False
    for i, w in enumerate(words):
        if w != "that":
            continue
        before = words[i - 1] if i else ""
        after = words[i + 1] if i + 1 < len(words) else ""
        if before not in CONJUNCTION_BEFORE and after not in CLAUSE_AFTER:
            return False
    return True


# ---- the model, where rules cannot ---------------------------------------------------------------------------------
REWRITE_SYSTEM = (
    "You rewrite the last question of a conversation so that it can be understood without the conversation. "
    "Replace pronouns and omitted parts with what they refer to in the conversation. Keep its meaning; add "
    "nothing else. Reply with the rewritten question only, on one line."
)


def model_messages(question: str, history: list[Turn], turns: int = 3, answer_chars: int = 300) -> list[dict]:
    """Chat messages asking a model for the standalone question (the last `turns` turns, answers shortened)."""
    lines = []
    for t in history[-turns:]:
        lines.append(f"Question: {t.question}")
        answer = re.sub(r"\s+", " ", strip_marks(t.answer)).strip()
        if answer:
            lines.append(f"Answer: {answer[:answer_chars]}{'...' if len(answer) > answer_chars else ''}")
    conversation = "\n".join(lines)
    prompt = f"Conversation:\n{conversation}\n\nLast question: {_tidy(question)}\n\nRewritten question:"
    return [{"role": "system", "content": REWRITE_SYSTEM}, {"role": "user", "content": prompt}]


def parse_model_reply(reply: str, question: str) -> Rewrite | None:
    """The model's standalone question, if it is one: a line of text, no longer than 3 times the question and the
    conversation's limit, not a refusal or an answer. None otherwise (the question is then kept as it is)."""
    lines = [ln.strip() for ln in (reply or "").splitlines() if ln.strip()]
    if not lines:
        return None
    text = re.sub(r"^(?:rewritten|standalone)?\s*question\s*:\s*", "", lines[0], flags=re.IGNORECASE).strip(" \"'`*")
    if len(text) < 3 or len(text) > min(MAX_QUESTION, max(300, 3 * len(question))):
        return None
    if text.lower().startswith(("i cannot", "i can't", "sorry", "not found", "answer:")):
        return None
    return Rewrite(_finish(text, text), MODEL)
