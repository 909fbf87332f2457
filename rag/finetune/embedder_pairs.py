"""Training pairs for the embedder, made from the indexed chunks: the data of `rag finetune embedder`.

Questions are made without a model by default (seconds on a CPU), from what the store already holds:

- `heading`: "What does <document label> say about <heading>?", for the first chunk under each heading of a document;
- `table_row`: "<document label> <row label>" ("3M Company 10-K FY2018 Purchases of property, plant and equipment"),
  for up to `rows_per_table` body rows of each table chunk;
- `profile`: the document's title (its profile's, else its first line when that reads like one), or else its
  organisation, kind and period, for the chunk that opens the document, without the line that repeats the title
  word for word (the passage about it; a paper's title leads to its abstract's opening, where its claims are);
- `teacher` (only with `questions`): the questions a teacher model wrote with `rag finetune data`, from the train split
  of such a set (its validation and test questions are the answer model's held-out set and are skipped); the chunk the
  answer cites first is the positive.

The positive is the chunk's text as the index embeds it (`KnowledgeBase.vector_text`, with the document's label
when `chunk_context` is on), so training sees what serving embeds. A question made for two different chunks is
ambiguous and dropped.
The hard negative of a pair is a near miss from another document: the best-ranked chunk of another document (and of
another text) for the question in the live index, searched with the current embedder, that scores below 95% of the
positive's similarity (a chunk as close as the positive is probably an answer too: in a corpus of related
papers, training such chunks away pushes related documents apart); a random chunk of another
document when the index has none; none at all when the store holds one document.
A share of the pairs is held out (by document when there are at least 10) for the eval report and never trained on.

Nothing here reads evaluation data: only the store, the live index and, when given, a `rag finetune data` training
file (a file named like qrels or an evaluation question set is refused).
"""

import hashlib
import json
import logging
import random
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rag.core.errors import BadInput, IndexMismatch
from rag.core.hashing import sha256_file
from rag.core.types import Document
from rag.finetune.data import split_of, table_rows
from rag.retrieval.knowledge_base import KnowledgeBase, identity_mismatch

log = logging.getLogger(__name__)

RULES = {
    "heading": "What does <document label> say about <heading>? -> the first chunk under that heading",
    "table_row": "<document label> <row label> -> the table chunk holding that row",
    "profile": "the document's title (else organisation, kind, period) -> its opening chunk without the title line",
    "teacher": "a question the teacher model wrote (`rag finetune data`, train split) -> the chunk its answer cites first",
}
NOT_TRAINING = re.compile(r"qrels|^(questions|queries|heldout_questions|val|test)\.jsonl$", re.IGNORECASE)
MARKER = re.compile(r"\[(\d+)\]")


@dataclass
class PairConfig:
    seed: int = 0
    max_pairs: int = 0  # training pairs kept (0: all); the held-out pairs are not counted
    heldout_share: float = 0.1
    rows_per_table: int = 3
    min_chunk_words: int = 8
    collection: str | None = None
    negatives_searched: int = 30  # candidates looked at for a hard negative
    negative_margin: float = 0.95  # a hard negative must score below this share of the positive's similarity


@dataclass
class Pair:
    query: str
    positive: str  # the chunk's text as indexed
    rule: str
    doc: str  # document name
    doc_id: str
    vid: int  # the positive chunk's vector id
    negative: str = ""
    negative_vid: int | None = None
    negative_kind: str = "none"  # hard | random | none
    split: str = "train"  # train | heldout

    @property
    def id(self) -> str:
        return hashlib.sha1(f"{self.rule}|{self.query}|{self.vid}".encode()).hexdigest()[:12]


@dataclass
class PairSet:
    pairs: list[Pair]
    card: dict = field(default_factory=dict)
    corpus: dict[int, str] = field(default_factory=dict)  # vector id -> every chunk's text as indexed (held-out search)

    @property
    def train(self) -> list[Pair]:
        return [p for p in self.pairs if p.split == "train"]

    @property
    def heldout(self) -> list[Pair]:
        return [p for p in self.pairs if p.split == "heldout"]

    def write(self, out: Path) -> dict[str, str]:
        """pairs.jsonl (every pair with its rule, split and negative) and data_card.json in `out`."""
        out.mkdir(parents=True, exist_ok=True)
        rows = "".join(json.dumps(asdict(p), ensure_ascii=False) + "\n" for p in self.pairs)
        (out / "pairs.jsonl").write_text(rows, encoding="utf-8")
        (out / "data_card.json").write_text(json.dumps(self.card, indent=1, ensure_ascii=False), encoding="utf-8")
        return {"pairs": str(out / "pairs.jsonl"), "data_card": str(out / "data_card.json")}


def document_label(doc: Document) -> str:
    """How a question names a document: its profile's label (organisation, kind, period) in words, else its title,
    else its file name without extension."""
    label = doc.profile.context.replace(" · ", " ")
    if label:
        return label
    title = real_title(doc.profile.title)
    return title or re.sub(r"[-_]+", " ", Path(doc.name).stem).strip()


def real_title(text: str) -> str:
    """`text` when it reads like a title (some words of letters, not too long), else ""."""
    words = text.split()
    return text.strip() if 0 < len(words) <= 30 and sum(len(w) >= 3 and w.isalpha() for w in words) >= 2 else ""


def first_line_title(text: str) -> str:
    """The first line of a document's first chunk, when it reads like a title and text follows it."""
    first, _, rest = text.strip().partition("\n")
    return real_title(first) if len(first.split()) >= 3 and len(rest.split()) >= 8 else ""


def row_label(row: list[str]) -> str:
    """A table row's label (its first cell) when it names something in words (also used for a heading)."""
    label = " ".join(row[0].split()) if row else ""
    if not label or len(label.split()) > 12 or not re.search(r"[A-Za-z]{3}", label):
        return ""
    return label


class PairMaker:
    """The training pairs of one knowledge base, with hard negatives, split into train and held out."""

    def __init__(self, kb: KnowledgeBase, cfg: PairConfig, questions: Path | None = None):
        self.kb, self.cfg, self.questions = kb, cfg, questions
        self.rng = random.Random(cfg.seed)
        self.removed: Counter = Counter()
        self.teacher: dict | None = None
        self.rows: dict[int, dict] = {}  # vector id -> chunk row
        self.indexed: dict[int, str] = {}  # vector id -> the chunk's text as indexed
        self.labels: dict[str, str] = {}  # document id -> the label its chunks are indexed with

    def run(self, progress=None) -> PairSet:
        say = progress or (lambda msg: None)
        docs = {d.id: d for d in self.kb.store.documents(self.cfg.collection)}
        rows = [r for r in self.kb.store.chunks_by_vid(self.kb.store.all_vids()).values() if r["doc_id"] in docs]
        if not rows:
            where = f"collection {self.cfg.collection!r} of " if self.cfg.collection else ""
            raise BadInput(f"nothing to train the embedder on: the {where}store holds no chunks (ingest documents first)")
        context = self.kb.settings.retrieval.chunk_context
        self.labels = {i: d.profile.context if context else "" for i, d in docs.items()}
        self.indexed = {r["vid"]: self.kb.vector_text(r["heading"], r["text"], self.labels[r["doc_id"]]) for r in rows}
        self.rows = {r["vid"]: r for r in rows}
        by_doc: dict[str, list[dict]] = {}
        for r in sorted(rows, key=lambda r: (r["page"], r["ord"], r["vid"])):
            by_doc.setdefault(r["doc_id"], []).append(r)
        pairs: list[Pair] = []
        for doc_id, chunks in by_doc.items():
            pairs += self._document_pairs(docs[doc_id], chunks)
        if self.questions is not None:
            pairs += self._teacher_pairs(self.questions)
        pairs = self._unambiguous(pairs)
        if not pairs:
            raise BadInput(
                f"no training pairs could be made from {len(rows)} chunks: no headings, table rows or titles "
                "(give teacher questions with --questions)"
            )
        say(f"{len(pairs)} pairs from {len(by_doc)} documents; mining hard negatives")
        self._negatives(pairs)
        self._split(pairs, len(by_doc))
        train = [p for p in pairs if p.split == "train"]
        if self.cfg.max_pairs and len(train) > self.cfg.max_pairs:
            keep = {id(p) for p in self.rng.sample(train, self.cfg.max_pairs)}
            self.removed["over_max_pairs"] += len(train) - self.cfg.max_pairs
            pairs = [p for p in pairs if p.split == "heldout" or id(p) in keep]
        return PairSet(pairs, self._card(pairs, docs), self.indexed)

    # ---- questions without a model -------------------------------------------------------------
    def _document_pairs(self, doc: Document, chunks: list[dict]) -> list[Pair]:
        label = document_label(doc)
        usable = [c for c in chunks if len(c["text"].split()) >= self.cfg.min_chunk_words]
        out: list[Pair] = []
        seen_headings: set[str] = set()
        for c in usable:
            topic = c["heading"].split(" > ")[-1].strip()
            if topic not in seen_headings and row_label([topic]) and topic.lower() not in label.lower():
                seen_headings.add(topic)
                out.append(self._pair(f"What does {label} say about {topic}?", c, "heading"))
            rows = table_rows(c["text"])
            body = [lab for lab in (row_label(r) for r in rows[1:]) if lab] if len(rows) >= 2 else []
            for lab in self.rng.sample(body, min(len(body), self.cfg.rows_per_table)):
                out.append(self._pair(f"{label} {lab}", c, "table_row"))
        if usable:
            title = real_title(doc.profile.title) or first_line_title(usable[0]["text"])
            parts = [doc.profile.organizations[0] if doc.profile.organizations else "", doc.profile.kind, doc.profile.period]
            about = title or (" ".join(p for p in parts if p) if sum(bool(p) for p in parts) >= 2 else "")
            if about:  # the passage that opens the document, without the line that repeats the title word for word
                first = usable[0]
                text = "\n".join(line for line in first["text"].split("\n") if " ".join(line.split()) != about)
                if len(text.split()) >= self.cfg.min_chunk_words:
                    positive = self.kb.vector_text(first["heading"], text, self.labels[doc.id])
                    out.append(self._pair(about, first, "profile", positive))
        return out

    def _pair(self, query: str, row: dict, rule: str, positive: str | None = None) -> Pair:
        text = positive if positive is not None else self.indexed[row["vid"]]
        return Pair(" ".join(query.split()), text, rule, row["doc_name"], row["doc_id"], row["vid"])

    # ---- questions a teacher wrote (`rag finetune data`) ---------------------------------------
    def _teacher_pairs(self, path: Path) -> list[Pair]:
        if NOT_TRAINING.search(path.name):
            raise BadInput(
                f"{path.name}: not read; --questions takes the train.jsonl of `rag finetune data`, never evaluation "
                "questions or qrels"
            )
        by_chunk_id = {r["id"]: r for r in self.rows.values()}
        out: list[Pair] = []
        used, skipped = 0, Counter[str]()
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise BadInput(f"{path}:{n}: not JSON ({exc.msg})") from exc
                if not isinstance(rec, dict) or not {"question", "target", "sources", "split"} <= rec.keys():
                    raise BadInput(f"{path}:{n}: not a `rag finetune data` example (question, target, sources, split)")
                if rec["split"] != "train":
                    skipped["not_train_split"] += 1
                    continue
                cited = MARKER.search(rec["target"] or "")
                if not rec.get("answerable", True) or not cited:
                    skipped["unanswerable"] += 1
                    continue
                sources = rec["sources"]
                k = int(cited.group(1)) - 1
                row = by_chunk_id.get(sources[k]["chunk_id"]) if 0 <= k < len(sources) else None
                if row is None:
                    skipped["chunk_not_in_store"] += 1
                    continue
                out.append(self._pair(str(rec["question"]), row, "teacher"))
                used += 1
        self.teacher = {"path": str(path), "sha256": sha256_file(path), "used": used, "skipped": dict(skipped)}
        return out

    # ---- checks, negatives, split --------------------------------------------------------------
    def _unambiguous(self, pairs: list[Pair]) -> list[Pair]:
        """Pairs whose question was made for one chunk only (same question, same positive twice: kept once)."""
        targets: dict[str, set[int]] = {}
        for p in pairs:
            targets.setdefault(p.query.lower(), set()).add(p.vid)
        out, seen = [], set()
        for p in pairs:
            key = (p.query.lower(), p.vid)
            if len(targets[p.query.lower()]) > 1:
                self.removed["ambiguous"] += 1
            elif key in seen:
                self.removed["duplicate"] += 1
            else:
                seen.add(key)
                out.append(p)
        return out

    def _negatives(self, pairs: list[Pair]) -> None:
        """One near miss from another document per pair (see the module's docstring)."""
        doc_ids = {r["doc_id"] for r in self.rows.values()}
        if len(doc_ids) < 2:
            return
        live = self.kb.live()
        if live.vectors.size:
            reason = identity_mismatch(self.kb.versions.manifest().get("embedder"), self.kb.identity())
            if reason:
                raise IndexMismatch(
                    f"the index was built by another embedder ({reason}); run `rag index rebuild` before mining "
                    "hard negatives from it"
                )
            vecs = self.kb.embedder.embed([p.query for p in pairs])
            positives = self.kb.embedder.embed([p.positive for p in pairs])
            for p, vec, pos in zip(pairs, vecs, positives):
                ceiling = self.cfg.negative_margin * float(vec @ pos)
                for vid, score in live.vectors.search(vec, self.cfg.negatives_searched):
                    row = self.rows.get(vid)
                    if score >= ceiling:  # as close as the positive: likely an answer too, not a negative
                        continue
                    if row is not None and row["doc_id"] != p.doc_id and self.indexed[vid] != p.positive:
                        p.negative, p.negative_vid, p.negative_kind = self.indexed[vid], vid, "hard"
                        break
        vids = sorted(self.rows)
        for p in pairs:
            for _ in range(0 if p.negative else 100):  # nothing near in another document: any chunk of another one
                vid = self.rng.choice(vids)
                if self.rows[vid]["doc_id"] != p.doc_id and self.indexed[vid] != p.positive:
                    p.negative, p.negative_vid, p.negative_kind = self.indexed[vid], vid, "random"
                    break

    def _split(self, pairs: list[Pair], n_docs: int) -> None:
        """Held out by document when there are at least 10 (no held-out document trained on), else by pair; at least
        one pair on each side when there are two."""
        share = (0.0, self.cfg.heldout_share)
        for p in pairs:
            key = p.doc if n_docs >= 10 else p.id
            p.split = "heldout" if split_of(key, share) == "test" else "train"
        if len(pairs) >= 2:
            ranked = sorted(pairs, key=lambda p: p.id)
            if all(p.split == "train" for p in pairs):
                ranked[0].split = "heldout"
            elif all(p.split == "heldout" for p in pairs):
                ranked[0].split = "train"

    def _card(self, pairs: list[Pair], docs: dict[str, Document]) -> dict:
        per_doc = Counter(p.doc_id for p in pairs)
        return {
            "pairs": len(pairs),
            "train": sum(p.split == "train" for p in pairs),
            "heldout": sum(p.split == "heldout" for p in pairs),
            "per_rule": {rule: dict(Counter(p.split for p in pairs if p.rule == rule)) for rule in RULES},
            "negatives": dict(Counter(p.negative_kind for p in pairs)),
            "rules": RULES,
            "removed": dict(self.removed),
            "documents": [
                {"name": d.name, "sha256": d.sha256, "collection": d.collection, "pairs": per_doc.get(i, 0)}
                for i, d in sorted(docs.items(), key=lambda kv: kv[1].name)
            ],
            "heldout_by": "document" if len(docs) >= 10 else "pair",
            "chunk_context": self.kb.settings.retrieval.chunk_context,
            "negatives_from": self.kb.identity(),
            "teacher_questions": self.teacher,
            "config": asdict(self.cfg),
            "evaluation_data": (
                "none read: the pairs come only from the store's chunks and document profiles"
                + (" and the given `rag finetune data` training file" if self.teacher else "")
                + "; no evaluation qrels or evaluation question sets were opened"
            ),
        }
