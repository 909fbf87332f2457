"""Training data from the corpus: `rag finetune data`.

A teacher model (any generator: the packaged 1.5B by default, or an OpenAI-compatible endpoint) reads one to
three chunks of the index and writes a question they answer, with an answer citing them. Table chunks also
give lookups written from their rows without a model. Each question is then posed the way the service poses
it: the real retriever fetches the top-k chunks, the cited chunks are made sure to be among them, and the
prompt is built by `rag.answering.prompts.build_messages` with the serving settings, so training sees exactly what
serving shows. The same question with its cited chunks (and every chunk of their pages) removed from the
sources becomes an unanswerable example whose target is the refusal. Person-written gold examples seed the
teacher (as demonstrations) and are mixed in.

Every example must pass `rag.finetune.filters` (numbers and names of the answer in the cited chunk, enough
of its words, lengths, no near-duplicate question) and, after the sources were cut to what the model reads,
the service's own citation check. Splits are by document when there are enough documents (the held-out test
split shares no document with training).
"""

import hashlib
import json
import logging
import os
import random
import re
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rag.answering.citations import check_citations, split_sentences
from rag.answering.grounding import numbers
from rag.answering.markers import MARK
from rag.answering.prompts import NOT_FOUND, build_messages, source_text
from rag.core.files import read_records
from rag.core.settings import AnswerSettings
from rag.core.types import Hit
from rag.finetune.filters import REASONS, VAGUE, Deduper, Limits, rare_terms, reject_reason, strip_marks
from rag.generation.protocol import Generator
from rag.retrieval.knowledge_base import KnowledgeBase

log = logging.getLogger(__name__)

KINDS = ("fact", "numeric", "table", "multi", "table_lookup", "unanswerable", "swapped", "gold")

TEACHER_SYSTEM = (
    "You write questions and answers for testing readers of company documents. You only use facts written in "
    "the passages you are given. Questions must make sense to someone who cannot see the passages: name the "
    "company, product, person or table they are about. Answers are one or two short sentences that copy names "
    "and numbers exactly as the passages write them, and every sentence ends with the number of the passage it "
    "comes from in square brackets, like [1]."
)

ASK = {
    "fact": "Write one question about a specific fact in the passage (who, what, where, when, which or how).",
    "numeric": "Write one question whose answer is a number written in the passage (an amount, a count, a percentage or a date).",
    "table": "The passage is a table. Write one question asking for the value in one cell, naming its row and "
    "its column in words.",
    "multi": "Write one question that needs facts from both passages. Answer with one sentence from each passage, "
    "citing [1] and [2].",
}
REPLY = "Reply with exactly two lines and nothing else:\nQuestion: <the question>\nAnswer: <the answer>"


@dataclass
class DataConfig:
    count: int = 200  # teacher calls (each gives at most one answerable and one unanswerable example)
    seed: int = 0
    k: tuple[int, int] = (3, 5)  # sources per training prompt, drawn uniformly (serving uses top_k)
    unanswerable_share: float = 0.35  # of the answerable examples, this share also gives an unanswerable one
    # this share also gives a twin about an invented name (in no document; target: the refusal). The shipped v1
    # adapter was trained without them (0) and answered such questions: docs/benchmarks.md
    swapped_share: float = 0.25
    multi_share: float = 0.1
    table_lookups: float = 0.25  # table examples written from rows without the teacher, per teacher call at most
    split: tuple[float, float] = (0.1, 0.15)  # validation, test shares (by document when there are >= 5)
    min_chunk_words: int = 20
    max_tokens: int = 160
    limits: Limits = field(default_factory=Limits)
    collection: str | None = None
    licence: str = ""  # of the source documents, recorded in the data card


@dataclass
class Example:
    id: str
    kind: str
    origin: str  # teacher | rows | gold
    question: str
    target: str  # what the model must write: a cited answer or the refusal
    answer: str  # the gold answer without markers ("" for unanswerable)
    answerable: bool
    messages: list[dict]
    sources: list[dict]  # chunk_id, doc, page of each numbered source
    doc: str = ""
    page: int = 0
    split: str = "train"


def parse_reply(text: str) -> tuple[str, str] | None:
    """(question, answer) from a teacher's "Question: ... / Answer: ..." reply, or None."""
    q = re.search(r"question\s*[:\-]\s*(.+?)(?:\n|answer\s*[:\-])", text, re.IGNORECASE | re.DOTALL)
    a = re.search(r"answer\s*[:\-]\s*(.+)", text, re.IGNORECASE | re.DOTALL)
    if not q or not a:
        return None
    question = " ".join(q.group(1).split()).strip(" *\"'")
    answer = " ".join(a.group(1).strip().split("\n\n")[0].split()).strip(" *\"'")
    if not question.endswith("?") or not answer:
        return None
    return question, answer


def teacher_messages(kind: str, chunks: list[dict], demos: list[dict], sentence: str = "") -> list[dict]:
    """The teacher's prompt: the passages numbered from 1, what kind of question to write (about `sentence` when
    given), the reply format."""
    passages = "\n\n".join(
        f"Passage [{i}] ({c['doc_name']}, page {c['page']}):\n{c['text'].strip()}" for i, c in enumerate(chunks, 1)
    )
    subject = subject_of(chunks[0])
    shown = ""
    if demos:
        shown = (
            "Examples of good questions and answers (about other documents):\n"
            + "\n".join(f"Question: {d['question']}\nAnswer: {d['answer']}" for d in demos)
            + "\n\n"
        )
    about = f'\nAsk about this sentence of the passage: "{sentence}"' if sentence else ""
    name = f'\nThe question must name what it is about, as in "{subject}".' if subject else ""
    user = f"{passages}\n\n{shown}{ASK[kind]}{about}{name}\n{REPLY}"
    return [{"role": "system", "content": TEACHER_SYSTEM}, {"role": "user", "content": user}]


def subject_of(chunk: dict) -> str:
    """What a chunk's document is about, for naming it in a question: its title (the first part of the heading
    breadcrumb), else the file name without extension and dashes."""
    title = (chunk.get("heading") or "").split(" > ")[0].split(":")[0].strip()
    if title:
        return title
    return re.sub(r"[-_]+", " ", (chunk.get("doc_name") or "").rsplit(".", 1)[0]).strip()


def contextualize(question: str, subject: str) -> str:
    """A question that names nothing specific, tied to its document: "According to <subject>, what ...?"."""
    q = question.strip()
    first = q.split(" ", 1)[0]
    if first.isupper() and len(first) > 1:  # an acronym keeps its case
        return f"According to {subject}, {q}"
    return f"According to {subject}, {q[0].lower()}{q[1:]}"


def cite_single(answer: str, n_chunks: int) -> str:
    """An answer from a single passage that cites nothing gets [1] (the filters still check it is backed)."""
    if n_chunks != 1 or MARK.search(answer):
        return answer
    end = re.search(r"[.!?]$", answer)
    return f"{answer[:-1]} [1]{end.group()}" if end else f"{answer} [1]"


def table_rows(text: str) -> list[list[str]]:
    """The cells of a table chunk's text (one row a line, cells split by " | ")."""
    return [[c.strip() for c in line.split(" | ")] for line in text.splitlines() if " | " in line]


def row_lookup(chunk: dict, rng: random.Random) -> tuple[str, str] | None:
    """A lookup written from a table chunk without a model: the value of one cell, named by row and column."""
    rows = table_rows(chunk["text"])
    if len(rows) < 2 or len(rows[0]) < 2:
        return None
    header, body = rows[0], [r for r in rows[1:] if len(r) == len(rows[0])]
    cells = [
        (r, c)
        for r in body
        for c in range(1, len(header))
        if r[0] and header[c] and r[c] and r[c] not in ("-", "—") and len(r[c].split()) <= 6
    ]
    if not cells:
        return None
    row, c = rng.choice(cells)
    topic = (chunk.get("heading") or "").split(" > ")[-1].strip()
    where = f" in {topic}" if topic and topic.lower() not in (header[c].lower(), row[0].lower()) else ""
    question = f"What is the {header[c]} for {row[0]}{where}?"
    return question, f"The {header[c]} for {row[0]} is {row[c]} [1]."


def split_of(key: str, shares: tuple[float, float]) -> str:
    """train | val | test, fixed by the hash of `key` (a document name, or an example id)."""
    x = int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "test" if x < shares[1] else "val" if x < shares[0] + shares[1] else "train"


def _hit(row: dict) -> Hit:
    return Hit(
        chunk_id=row["id"],
        doc_id=row["doc_id"],
        doc=row["doc_name"],
        page=row["page"],
        score=0.0,
        text=row["text"],
        html=row.get("html") or "",
    )


def teacher_id(teacher: Generator) -> dict:
    """What identifies the teacher's weights (name, backend, hashes, endpoint): the key of its cached replies.
    The served version's id is a label and left out."""
    return teacher.ref().model_dump(exclude={"version"})


class Synthesizer:
    """Turns the chunks of a knowledge base into checked training examples."""

    def __init__(
        self,
        kb: KnowledgeBase,
        teacher: Generator | None,
        cfg: DataConfig,
        answer: AnswerSettings | None = None,
        gold: list[dict] | None = None,
        cache: Path | None = None,
    ):
        self.kb, self.teacher, self.cfg = kb, teacher, cfg
        self.answer = answer or AnswerSettings()
        self.gold = gold or []
        self.rng = random.Random(cfg.seed)
        self.removed: Counter = Counter()
        self.dedup = Deduper(cfg.limits.duplicate_overlap)
        self.examples: list[Example] = []
        self.teacher_calls = 0
        self.teacher_tokens = 0
        self.teacher_seconds = 0.0  # time the teacher took (summed over runs when replies came from the cache)
        self.rare: set[str] | None = None
        self._texts: dict[str, str] = {}
        self._taken_words: set[str] | None = None
        # teacher replies by prompt hash, appended as they come: a rerun after a crash asks only what is missing
        self.cache = Path(cache) if cache else None
        self.replies: dict[str, dict] = {}  # prompt hash -> text, tokens, seconds
        if self.cache is not None and self.cache.is_file():
            for line in self.cache.read_text(encoding="utf-8").splitlines():
                try:
                    row = json.loads(line)
                    self.replies[row.pop("key")] = row
                except (json.JSONDecodeError, KeyError):
                    continue  # a line cut by the crash

    def chunks(self) -> list[dict]:
        rows = self.kb.store.chunks_by_vid(self.kb.store.all_vids())
        keep = [
            r
            for vid, r in sorted(rows.items())
            if (not self.cfg.collection or r["collection"] == self.cfg.collection)
            and len(r["text"].split()) >= self.cfg.min_chunk_words
        ]
        return keep

    def plan(self, chunks: list[dict]) -> list[tuple[str, list[dict], str]]:
        """(kind, chunks, focus sentence) for each teacher call. Chunks are taken in a shuffled order, again and
        again until `count` calls are planned, each time with another of their sentences to ask about: tables
        get table questions, sentences with numbers alternate numeric and fact questions, and a share pairs two
        neighbouring chunks of one document."""
        order = list(chunks)
        self.rng.shuffle(order)
        by_doc: dict[str, list[dict]] = {}
        for c in sorted(chunks, key=lambda r: (r["doc_id"], r["ord"])):
            by_doc.setdefault(c["doc_id"], []).append(c)
        used: set[tuple[str, str]] = set()
        jobs: list[tuple[str, list[dict], str]] = []
        for i in range(self.cfg.count * 3):
            if len(jobs) >= self.cfg.count or not order:
                break
            c = order[i % len(order)]
            if "<table" in (c.get("html") or ""):
                if (c["id"], "") not in used:
                    used.add((c["id"], ""))
                    jobs.append(("table", [c], ""))
                continue
            fresh = [x for x in split_sentences(c["text"]) if len(x.split()) >= 6 and (c["id"], x) not in used]
            if not fresh:
                continue
            sentence = self.rng.choice(fresh)
            used.add((c["id"], sentence))
            siblings = by_doc[c["doc_id"]]
            pos = siblings.index(c)
            if self.rng.random() < self.cfg.multi_share and pos + 1 < len(siblings):
                jobs.append(("multi", [c, siblings[pos + 1]], ""))
            elif numbers(sentence) and self.rng.random() < 0.5:
                jobs.append(("numeric", [c], sentence))
            else:
                jobs.append(("fact", [c], sentence))
        return jobs

    def run(self, progress=None) -> list[Example]:
        """Every example, filtered, with its split. `progress(i, n, kept)` after each teacher call."""
        t0 = time.perf_counter()
        chunks = self.chunks()
        texts: dict[str, str] = {}
        for c in self.kb.store.chunks_by_vid(self.kb.store.all_vids()).values():
            texts[c["doc_id"]] = texts.get(c["doc_id"], "") + f" {c['doc_name']} {c['heading']} {c['text']}"
        self.rare = rare_terms(texts)
        self._texts = texts
        jobs = self.plan(chunks)
        for g in self.gold:
            self._gold(g)
        tables = [c for c in chunks if "<table" in (c.get("html") or "")]
        self.rng.shuffle(tables)
        for c in tables[: int(self.cfg.table_lookups * self.cfg.count) + 1]:
            pair = row_lookup(c, self.rng)
            if pair:
                self._add("table_lookup", "rows", *pair, [c])
        demos = [g for g in self.gold if g.get("answer") and str(g["answer"]).strip() != NOT_FOUND][:2]
        for i, (kind, group, sentence) in enumerate(jobs, 1):
            if self.teacher is not None:
                self._teach(self.teacher, kind, group, demos, sentence)
            if progress:
                progress(i, len(jobs), len(self.examples))
        self._assign_splits()
        self.seconds = time.perf_counter() - t0
        return self.examples

    # ---- one candidate ------------------------------------------------------------------------
    def _teach(self, teacher: Generator, kind: str, group: list[dict], demos: list[dict], sentence: str = "") -> None:
        messages = teacher_messages(kind, group, demos, sentence)
        key = hashlib.sha1(json.dumps([messages, teacher_id(teacher)]).encode()).hexdigest()
        if key not in self.replies:  # else an earlier, interrupted run already asked this
            t0 = time.perf_counter()
            gen = teacher.generate(messages, max_tokens=self.cfg.max_tokens)
            self._remember(
                key, {"text": gen.text, "tokens": gen.completion_tokens, "seconds": round(time.perf_counter() - t0, 2)}
            )
        reply = self.replies[key]
        text = reply["text"]
        self.teacher_tokens += reply.get("tokens", 0)
        self.teacher_seconds += reply.get("seconds", 0.0)
        self.teacher_calls += 1
        pair = parse_reply(text)
        if pair is None:
            self.removed["unparsable"] += 1
            return
        question, answer = pair
        self._add(kind, "teacher", question, cite_single(answer, len(group)), group)

    def _remember(self, key: str, reply: dict) -> None:
        self.replies[key] = reply
        if self.cache is not None:
            with open(self.cache, "a", encoding="utf-8") as f:
                f.write(json.dumps({"key": key, **reply}) + "\n")

    def _add(self, kind: str, origin: str, question: str, answer: str, group: list[dict]) -> None:
        texts, titles = [c["text"] for c in group], [c["doc_name"] for c in group]
        reason = reject_reason(question, answer, texts, self.cfg.limits, titles, self.rare)
        if reason == "vague_question" and not VAGUE.search(question) and subject_of(group[0]):
            question = contextualize(question, subject_of(group[0]))
            reason = reject_reason(question, answer, texts, self.cfg.limits, titles, self.rare)
        if reason is None and self.dedup.is_duplicate(question, group[0]["doc_id"]):
            reason = "duplicate"
        if reason:
            self.removed[reason] += 1
            return
        example = self._posed(kind, origin, question, answer, group)
        if example is None:
            return
        self.dedup.add(question, group[0]["doc_id"])
        self.examples.append(example)
        if self.rng.random() < self.cfg.unanswerable_share:
            unanswerable = self._unanswerable(question, answer, group)
            if unanswerable is not None:
                self.examples.append(unanswerable)
        if self.cfg.swapped_share and self.rng.random() < self.cfg.swapped_share:
            swapped = self._swapped(question, group)
            if swapped is not None:
                self.examples.append(swapped)

    def _k(self) -> int:
        return self.rng.randint(*self.cfg.k)

    def _posed(self, kind: str, origin: str, question: str, answer: str, group: list[dict]) -> Example | None:
        """The answerable example as the service would pose it: retrieved sources with the cited chunks among them,
        the answer's `[n]` renumbered to their positions; dropped when the cut sources no longer back it."""
        k = self._k()
        hits, _ = self.kb.search(question, k + len(group), self.cfg.collection)
        gold_ids = [c["id"] for c in group]
        others = [h for h in hits if h.chunk_id not in gold_ids][: k - len(group)]
        slots = sorted(self.rng.sample(range(len(others) + len(group)), len(group)))
        sources: list[Hit] = list(others)
        for slot, chunk in zip(slots, group):
            sources.insert(slot, _hit(chunk))
        where = {cid: i for i, cid in enumerate((h.chunk_id for h in sources), 1)}
        target = re.sub(r"\[(\d+)\]", lambda m: f"[{where[gold_ids[int(m.group(1)) - 1]]}]", answer)
        if not self._backed(question, target, sources):
            self.removed["answer_cut_from_prompt"] += 1
            return None
        return self._example(kind, origin, question, target, strip_marks(answer), True, sources, group[0])

    def _unanswerable(self, question: str, answer: str, group: list[dict]) -> Example | None:
        """The same question with its chunks (and their pages) removed from the sources: the target is the refusal.
        Kept only when no remaining source backs the original answer."""
        pages = {(c["doc_id"], c["page"]) for c in group}
        hits, _ = self.kb.search(question, self.cfg.k[1] * 3, self.cfg.collection)
        sources = [h for h in hits if (h.doc_id, h.page) not in pages][: self._k()]
        if not sources:
            self.removed["no_distractors"] += 1
            return None
        plain = strip_marks(answer)
        seen = [Hit(**{**h.model_dump(), "text": self._shown(h, question)}) for h in sources]
        _, citations, _ = check_citations(plain, seen, question, self.cfg.limits.min_support)
        if citations:
            self.removed["distractors_answer"] += 1
            return None
        return self._example("unanswerable", "teacher", question, NOT_FOUND, "", False, sources, group[0])

    def _swapped(self, question: str, group: list[dict]) -> Example | None:
        """The question about an invented name instead of the one it names, posed over what the real retriever
        finds for it (look-alike passages about others): the target is the refusal. Training names are made up here;
        the held-out twins use another list (`INVENTED`), so a model cannot learn the names themselves."""
        taken = self._taken()
        pool = [n for n in (made_up_name(self.rng) for _ in range(8)) if n.lower() not in taken and n not in INVENTED]
        twin = swap_names(question, self.rare or set(), taken, pool)
        if twin is None:
            return None
        hits, _ = self.kb.search(twin, self._k(), self.cfg.collection)
        if not hits:
            return None
        return self._example("swapped", "teacher", twin, NOT_FOUND, "", False, hits, group[0])

    def _taken(self) -> set[str]:
        if self._taken_words is None:
            self._taken_words = set(self.rare or ()) | {t for text in self._texts.values() for t in text.lower().split()}
        return self._taken_words

    def _shown(self, hit: Hit, question: str) -> str:
        return source_text(hit, question, self.answer.source_words, self.answer.tables)

    def _backed(self, question: str, target: str, sources: list[Hit]) -> bool:
        """The service's own check passes on every sentence, against the sources as the model reads them."""
        seen = [Hit(**{**h.model_dump(), "text": self._shown(h, question)}) for h in sources]
        _, citations, dropped = check_citations(target, seen, question, self.cfg.limits.min_support)
        return bool(citations) and not dropped

    def _example(
        self, kind: str, origin: str, question: str, target: str, answer: str, answerable: bool, sources: list[Hit], home: dict
    ) -> Example:
        messages = build_messages(question, sources, self.answer.source_words, self.answer.tables)
        ident = hashlib.sha1(f"{kind}|{question}|{home['id']}".encode()).hexdigest()[:12]
        return Example(
            id=ident,
            kind=kind,
            origin=origin,
            question=question,
            target=target,
            answer=answer,
            answerable=answerable,
            messages=messages,
            doc=home["doc_name"],
            page=home["page"],
            sources=[{"chunk_id": h.chunk_id, "doc": h.doc, "page": h.page} for h in sources],
        )

    def _gold(self, record: dict) -> None:
        """A person's example: the answer (no markers needed) is attached to the retrieved source that backs it;
        an empty answer or the refusal makes an unanswerable example from the retrieved sources."""
        question = str(record.get("question") or "").strip()
        answer = str(record.get("answer") or "").strip()
        k = self._k()
        hits, _ = self.kb.search(question, k, self.cfg.collection)
        if not question or not hits:
            self.removed["unparsable"] += 1
            return
        if not answer or answer.startswith(NOT_FOUND):
            self.examples.append(self._example("gold", "gold", question, NOT_FOUND, "", False, hits, _row(hits[0])))
            return
        seen = [Hit(**{**h.model_dump(), "text": self._shown(h, question)}) for h in hits]
        text, citations, dropped = check_citations(answer, seen, question, self.cfg.limits.min_support)
        if dropped or not citations:
            self.removed["answer_not_in_source"] += 1
            return
        home = next(h for h in hits if h.chunk_id == citations[0].chunk_id)
        self.dedup.add(question, home.doc_id)
        self.examples.append(self._example("gold", "gold", question, text, strip_marks(answer), True, hits, _row(home)))

    def _assign_splits(self) -> None:
        docs = {e.doc for e in self.examples}
        by_doc = len(docs) >= 5
        for e in self.examples:
            e.split = split_of(e.doc if by_doc else e.id, self.cfg.split)

    def heldout(self, splits: tuple[str, ...] = ("val", "test")) -> list[dict]:
        """The held-out questions for `rag eval answers` (see `heldout_questions`): by default those of the
        validation and test splits, never trained on (validation only scores the loss)."""
        return heldout_questions(self.examples, self.rare or set(), self._taken(), splits)

    def card(self) -> dict:
        """The data card: sources, counts per kind and split, what each filter removed, the teacher, the time."""
        counts: dict[str, dict[str, int]] = {}
        for e in self.examples:
            counts.setdefault(e.split, Counter())[e.kind] += 1
        used = {e.doc for e in self.examples}
        docs = [
            {"name": d.name, "sha256": d.sha256, "pages": d.pages, "examples": sum(e.doc == d.name for e in self.examples)}
            for d in self.kb.store.documents(self.cfg.collection)
            if d.name in used
        ]
        teacher = self.teacher.ref().model_dump() if self.teacher is not None else None
        return {
            "examples": len(self.examples),
            "per_split": {s: dict(c) for s, c in sorted(counts.items())},
            "per_kind": dict(Counter(e.kind for e in self.examples)),
            "answerable": sum(e.answerable for e in self.examples),
            "unanswerable": sum(not e.answerable for e in self.examples),
            "documents": docs,
            "licence": self.cfg.licence,
            "split_by": "document" if len(used) >= 5 else "example",
            "removed": {r: self.removed.get(r, 0) for r in REASONS},
            "teacher": teacher,
            "teacher_calls": self.teacher_calls,
            "teacher_tokens": self.teacher_tokens,
            "teacher_seconds": round(self.teacher_seconds, 1),
            "gold_given": len(self.gold),
            "seconds": round(getattr(self, "seconds", 0.0), 1),
            "config": {**asdict(self.cfg), "source_words": self.answer.source_words, "tables": self.answer.tables},
        }


def _row(hit: Hit) -> dict:
    return {"id": hit.chunk_id, "doc_name": hit.doc, "page": hit.page}


def load_gold(path) -> list[dict]:
    """Person-written examples: JSONL with `question` and `answer` (empty or the refusal: unanswerable). A record
    flagged `"check": true` (a thumbs-down answer of `rag feedback export`, still to be answered by a person) is
    left out."""
    records = read_records(path, "a 'question' (and an 'answer', empty if unanswerable)")
    return [r for r in records if r.get("check") is not True]


INVENTED = ["Zorvath", "Quellmere", "Brisklan", "Ottervane", "Vexhollow", "Mirandel", "Caskfeld", "Threnody"]


SYLLABLES = [
    "bra",
    "cor",
    "dal",
    "fen",
    "gri",
    "hol",
    "kas",
    "lum",
    "mor",
    "nev",
    "pil",
    "quor",
    "ras",
    "sel",
    "tov",
    "ulm",
    "vor",
    "wen",
    "yst",
    "zan",
]


def made_up_name(rng: random.Random) -> str:
    """A pronounceable name no dictionary has ("Korvalum"), for swapped training questions."""
    return "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize()


def swap_names(question: str, rare: set[str], taken: set[str], names: list[str] | None = None) -> str | None:
    """The question about someone or something that is in no document: each word of it that names one (a rare
    term, see `rag.finetune.filters.rare_terms`) replaced by an invented name (from `names`, default `INVENTED`)
    the corpus does not contain. None when the question names nothing rare."""
    pool = [w for w in (names or INVENTED) if w.lower() not in taken]
    if not pool:
        return None
    out: list[str] = []
    swapped: dict[str, str] = {}
    for word in question.split(" "):
        core = word.strip("?,.;:'\"()").removesuffix("'s")
        if core and core.lower() in rare and core[0].isupper():
            name = swapped.setdefault(core, pool[len(swapped) % len(pool)])
            word = word.replace(core, name, 1)
        out.append(word)
    return " ".join(out) if swapped else None


def heldout_questions(
    examples: list[Example], rare: set[str], taken: set[str], splits: tuple[str, ...] = ("test",)
) -> list[dict]:
    """Questions in `rag eval answers` format for an end-to-end evaluation through the real retriever: the
    answerable examples of `splits`, and for each an unanswerable twin about an invented name (`swap_names`).

    The unanswerable training examples cannot serve here: their chunk was only removed from one prompt, and the
    real retriever would find it again.
    """
    out = []
    for e in examples:
        if e.split not in splits or not e.answerable:
            continue
        out.append(
            {
                "id": e.id,
                "question": e.question,
                "answer": e.answer,
                "doc": e.doc,
                "page": e.page,
                "answerable": True,
                "kind": e.kind,
            }
        )
        twin = swap_names(e.question, rare, taken)
        if twin:
            out.append({"id": e.id + "-swapped", "question": twin, "answer": "", "answerable": False, "kind": "swapped"})
    return out


def write_dataset(out_dir, examples: list[Example], card: dict, questions: list[dict] | None = None) -> dict[str, str]:
    """train.jsonl, val.jsonl, test.jsonl (the examples), heldout_questions.jsonl (`questions`: the held-out
    questions in the format of `rag eval answers`, see `heldout_questions`), data_card.json and data_card.md; each
    written to a temp name and renamed."""

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}

    def put(name: str, text: str) -> None:
        tmp = out / f".{name}.partial"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out / name)
        files[name] = str(out / name)

    for split in ("train", "val", "test"):
        rows = [asdict(e) for e in examples if e.split == split]
        put(f"{split}.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    questions = questions if questions is not None else heldout_questions(examples, set(), set())
    put("heldout_questions.jsonl", "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions))
    put("data_card.json", json.dumps(card, indent=1, ensure_ascii=False))
    put("data_card.md", card_markdown(card))
    return files


def card_markdown(card: dict) -> str:
    """The data card as a short human-readable page."""
    lines = [
        "# Training data card",
        "",
        f"Examples: {card['examples']} ({card['answerable']} answerable, {card['unanswerable']} unanswerable), "
        f"split by {card['split_by']}.",
        "",
    ]
    if card.get("licence"):
        lines += [f"Source licence: {card['licence']}", ""]
    teacher = card.get("teacher") or {}
    lines += [
        f"Teacher: {teacher.get('name', 'none')} (sha256 {str(teacher.get('sha256'))[:16]}), "
        f"{card['teacher_calls']} calls, {card['teacher_tokens']} tokens written in {card.get('teacher_seconds', 0)} s "
        f"(this run: {card['seconds']} s).",
        "",
        "| split | " + " | ".join(KINDS) + " |",
        "|---|" + "---|" * len(KINDS),
    ]
    for split, kinds in card["per_split"].items():
        lines.append(f"| {split} | " + " | ".join(str(kinds.get(k, 0)) for k in KINDS) + " |")
    lines += ["", "Removed by the filters:", ""]
    lines += [f"- {reason}: {n}" for reason, n in card["removed"].items()]
    lines += ["", "Source documents:", ""]
    lines += [
        f"- {d['name']} (sha256 {d['sha256'][:16]}, {d['pages']} pages): {d['examples']} examples" for d in card["documents"]
    ]
    return "\n".join(lines) + "\n"
