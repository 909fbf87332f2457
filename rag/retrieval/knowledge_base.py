"""The knowledge base: the SQLite store, the published FAISS and BM25 indexes and the embedder, kept in agreement.

Writers hold a file lock on the data dir, commit to SQLite, then publish a new index version (FAISS vectors and
the BM25 index side by side). If a crash falls between the two, `repair()` (run under the same lock before every
write and at server start) re-embeds what the index lacks and drops what SQLite no longer has. Readers notice a
newly published version (from any process) and reload it. `bulk()` holds the lock over many documents and
publishes once at the end.
"""

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.core.errors import BadInput, IndexMismatch, NotFound, RagError
from rag.core.files import layout_html_path, locked
from rag.core.settings import Settings
from rag.core.types import Chunk, Document, DocumentProfile, Filters, Hit
from rag.profiles.extract import build_profile
from rag.profiles.overrides import apply_tags
from rag.profiles.pdf_metadata import pdf_metadata
from rag.retrieval.embedder import Embedder
from rag.retrieval.fusion import diversify, rrf, weighted
from rag.retrieval.lexical import Bm25Index, LexicalIndex
from rag.retrieval.routing import Route, Router
from rag.retrieval.sections import SectionNames
from rag.retrieval.vector_cache import VectorCache, identity_key
from rag.retrieval.vector_index import FaissIndex, IndexVersions, VectorIndex, choose_kind
from rag.store.protocol import Store
from rag.store.sqlite import SqliteStore, store_path

log = logging.getLogger(__name__)

EMBED_BLOCK = 256  # chunks embedded together within a bulk (sorted by length into batches by the embedder)


def embedder_identity(embedder: Embedder) -> dict:
    """Name, weights sha256 and backend of an embedder, as recorded in an index manifest."""
    return embedder.identity()


def identity_mismatch(recorded: dict | None, current: dict) -> str | None:
    """Why vectors recorded as made by `recorded` cannot be searched with `current`, or None when they can.

    Manifests written before backends existed carry no backend: they were made by torch.
    """
    if not recorded:
        return None
    for key, default in (("name", None), ("sha256", ""), ("backend", "torch"), ("chunk_text", "plain")):
        old, new = recorded.get(key) or default, current.get(key) or default
        if old and new and old != new:
            return f"{key} {old!r} in the index, {new!r} configured"
    return None


def embed_text(heading: str, text: str, context: str = "") -> str:
    """What the embedder and BM25 see for a chunk: its document's label (when `chunk_context` is on), its heading
    breadcrumb, then its text: "3M Company · 10-K · FY2018 / Cash flows / Purchases of property ... 1,577"."""
    return "\n".join(part for part in (context, heading, text) if part)


WORDED_CELL = re.compile(r"[^\W\d_]{2,}|\b(?:19|20)\d\d\b")  # a word, or a year ("2018" heads a column)


def table_labels(text: str) -> str:
    """`text` with each table row ("Purchases of PP&E | (1,577) | (1,373)") cut to its cells that hold a word or a
    year ("Purchases of PP&E"); a row of figures alone goes. Prose is kept as it is."""
    lines = []
    for line in text.split("\n"):
        if " | " not in line and not line.endswith(" |"):
            lines.append(line)
            continue
        worded = [cell.strip() for cell in line.split("|") if WORDED_CELL.search(cell)]
        if worded:
            lines.append(" | ".join(worded))
    return "\n".join(lines)


def vector_text(heading: str, text: str, context: str = "", table_figures: bool = False) -> str:
    """What the embedder sees for a chunk: `embed_text`, with its table rows cut to their worded cells unless
    `table_figures`. A small embedder reads a column of figures as noise, and a statement piece of 180 words is mostly
    digits past its 256-token window, so the rows' labels ("Purchases of property, plant and equipment") are what
    can match a question; BM25 still indexes every figure."""
    return embed_text(heading, text if table_figures else table_labels(text), context)


@dataclass
class LiveIndexes:
    vectors: VectorIndex
    lexical: LexicalIndex


class KnowledgeBase:
    def __init__(self, settings: Settings, embedder: Embedder):
        self.settings = settings
        self.data_dir = Path(settings.data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.store: Store = SqliteStore(store_path(self.data_dir))
        self.versions = IndexVersions(self.data_dir, settings.index.keep_versions)
        self.embedder = embedder
        self._live: LiveIndexes | None = None
        self._version: Path | None = None
        self._read_lock = threading.Lock()
        self._bulk: FaissIndex | None = None
        self._pending: dict[int, str] = {}  # in a bulk: vector id -> text stored but not yet embedded
        self._mismatch: str | None = None
        self._router: Router | None = None
        self._sections: SectionNames | None = None
        self._cache: VectorCache | None = None

    # ---- reading -------------------------------------------------------------------------------
    def live(self) -> LiveIndexes:
        """The live indexes, reloaded when another process has published a newer version."""
        with self._read_lock:
            current = self.versions.current()
            if self._live is None or current != self._version:
                self._live = LiveIndexes(self._load(current), Bm25Index.load(current) if current else Bm25Index())
                self._version = current
                self._mismatch = self._check_embedder()
                self._router = self._sections = None  # the documents may have changed with the version
            return self._live

    def _check_embedder(self) -> str | None:
        """Why the live version's vectors do not fit the configured embedder (None when they do)."""
        manifest = self.versions.manifest()
        if not manifest.get("embedder") or manifest.get("count", 0) == 0:
            return None
        return identity_mismatch(manifest["embedder"], self.identity())

    def identity(self) -> dict:
        """What made the vectors: the embedder, and whether chunks carried their document's label."""
        cfg = self.settings.retrieval
        return {
            **embedder_identity(self.embedder),
            "chunk_text": "context" if cfg.chunk_context else "plain",
            "table_text": "all cells" if cfg.table_figures_in_vectors else "worded cells",
        }

    def vector_text(self, heading: str, text: str, context: str) -> str:
        """What the embedder sees for a chunk (`vector_text` with the configured choice for table rows)."""
        return vector_text(heading, text, context, self.settings.retrieval.table_figures_in_vectors)

    def _context(self, profile: DocumentProfile) -> str:
        return profile.context if self.settings.retrieval.chunk_context else ""

    def _contexts(self) -> dict[str, str]:
        """Document id -> the label its chunks are indexed with."""
        return {d.id: self._context(d.profile) for d in self.store.documents()}

    def _refuse_mismatch(self, reason: str | None) -> None:
        if reason:
            raise IndexMismatch(
                f"the index was built by another embedder ({reason}); rebuild it with "
                f"`rag index rebuild` (any ingest also does) or configure the embedder it was built with"
            )

    def index(self) -> VectorIndex:
        return self.live().vectors

    def _embed(self, texts: list[str]):
        """Vectors of chunk texts (never of questions): through the vector cache when it is on, so a text the same
        embedder embedded before (an unchanged chunk of a re-ingested or re-chunked document) is not embedded again."""
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        cache = self._vector_cache()
        return self.embedder.embed(texts) if cache is None else cache.embed(texts, self.embedder.embed)

    def _vector_cache(self) -> VectorCache | None:
        if not self.settings.index.vector_cache:
            return None
        identity = embedder_identity(self.embedder)
        if self._cache is None or self._cache.identity != identity_key(identity):  # the embedder may be switched
            if self._cache is not None:
                self._cache.close()
            self._cache = VectorCache(self.data_dir / "vector_cache.sqlite", identity, self.embedder.dim)
        return self._cache

    def _load(self, folder: Path | None) -> FaissIndex:
        cfg = self.settings.index
        if folder is None:
            return FaissIndex(self.embedder.dim, cfg.use_gpu, search_threads=cfg.search_threads)
        return FaissIndex.load(folder, cfg.use_gpu, cfg.search_threads)

    def search(self, query: str, k: int, collection: str | None = None, filters: Filters | None = None) -> tuple[list[Hit], dict]:
        """Top-k chunks for a question, best first: dense and BM25 candidates fused (RRF by default),
        at most `max_per_page` chunks per page; filters apply before any cut. Timings in ms."""
        cfg = self.settings.retrieval
        live = self.live()
        if cfg.mode != "lexical":  # BM25 alone does not use the vectors
            self._refuse_mismatch(self._mismatch)
        timings = {"embed_ms": 0.0, "dense_ms": 0.0, "lexical_ms": 0.0, "fuse_ms": 0.0}
        if live.vectors.size == 0:
            return [], timings
        filters = (filters or Filters()).model_copy(update={"collection": collection} if collection else {})
        allowed = self.store.vids_matching(filters) if filters.active else None
        n = max(cfg.candidates, k)
        t0 = time.perf_counter()
        routes, routed = self._routes(query, filters)
        timings["route_ms"] = round((time.perf_counter() - t0) * 1000, 2)
        dense, lexical, dense_r, lexical_r = [], [], [], []
        if cfg.mode in ("hybrid", "dense"):
            t0 = time.perf_counter()
            qvec = self.embedder.embed([query])[0]
            t1 = time.perf_counter()
            dense = live.vectors.search(qvec, n, allowed)
            dense_r = live.vectors.search(qvec, n, routed) if routed else []
            timings.update(embed_ms=round((t1 - t0) * 1000, 2), dense_ms=round((time.perf_counter() - t1) * 1000, 2))
        if cfg.mode in ("hybrid", "lexical"):
            t0 = time.perf_counter()
            lexical = live.lexical.search(query, n, allowed)
            lexical_r = live.lexical.search(query, n, routed) if routed else []
            timings["lexical_ms"] = round((time.perf_counter() - t0) * 1000, 2)
        t0 = time.perf_counter()
        lists, weights = [dense, lexical], [cfg.dense_weight, cfg.lexical_weight]
        if routed and cfg.route == "restrict":
            lists = [dense_r, lexical_r]
        elif routed:
            lists += [dense_r, lexical_r]
            weights += [cfg.route_weight * cfg.dense_weight, cfg.route_weight * cfg.lexical_weight]
        fuse = (lambda ls, ws: weighted(ls, ws)) if cfg.fusion == "weighted" else (lambda ls, ws: rrf(ls, cfg.rrf_k, ws))
        fused = fuse(lists, weights)
        rows = self.store.chunks_by_vid([vid for vid, _ in fused[: n * 2]])
        fused = [(vid, s) for vid, s in fused if vid in rows]
        named = self._named_sections(query, fused, rows) if cfg.route_sections else {}
        if named:  # the candidates under a named heading, in the order the fusion put them, as one more list
            fused = fuse([*lists, [(vid, 1.0) for vid, _ in fused if vid in named]], [*weights, cfg.section_weight])
            fused = [(vid, s) for vid, s in fused if vid in rows]
        top = diversify(fused, lambda vid: (rows[vid]["doc_id"], rows[vid]["page"]), cfg.max_per_page, k)
        dense_of, lexical_of = dict(dense_r) | dict(dense), dict(lexical_r) | dict(lexical)
        why = {r.doc_id: r.reason for r in routes}
        hits = [
            Hit(
                chunk_id=r["id"],
                doc_id=r["doc_id"],
                doc=r["doc_name"],
                page=r["page"],
                bbox=json.loads(r["bbox"]),
                score=round(score, 5),
                dense_score=_round(dense_of.get(vid)),
                lexical_score=_round(lexical_of.get(vid)),
                text=r["text"],
                html=r.get("html") or "",
                context=DocumentProfile.model_validate_json(r["doc_profile"] or "{}").context,
                route=why.get(r["doc_id"]),
                section=named.get(vid),
                addresses_model=bool(r.get("addresses_model")),
            )
            for vid, score in top
            if (r := rows[vid])
        ]
        timings["fuse_ms"] = round((time.perf_counter() - t0) * 1000, 2)
        return hits, timings

    def _named_sections(self, query: str, fused: list[tuple[int, float]], rows: dict[int, dict]) -> dict[int, str]:
        """Candidate vector id -> the segment of its heading the question names, for the candidates under one."""
        if self._sections is None:
            labels = {d.id: d.profile.context for d in self.store.documents()}
            self._sections = SectionNames(self.store.headings(), labels)
        matcher = self._sections.matcher(query)
        named = {vid: matcher.named(rows[vid]["doc_id"], rows[vid]["heading"]) for vid, _ in fused}
        return {vid: name for vid, name in named.items() if name}

    def _routes(self, query: str, filters: Filters) -> tuple[list[Route], list[int] | None]:
        """The documents the question names (by their profiles) and their chunks' vector ids within `filters`;
        ([], None) when routing is off, the search is already limited to named documents, or nothing is named."""
        cfg = self.settings.retrieval
        if cfg.route == "off" or filters.docs:
            return [], None
        if self._router is None:
            self._router = Router(self.store.documents())
        routes = self._router.route(query, cfg.route_docs, cfg.route_profile_words)
        if not routes:
            return [], None
        routed = self.store.vids_matching(filters.model_copy(update={"docs": [r.doc_id for r in routes]}))
        return (routes, routed) if routed else ([], None)

    def info(self) -> dict:
        manifest = self.versions.manifest()
        live = self.live()
        return {
            "version": manifest.get("version"),
            "vectors": live.vectors.size,
            "lexical_terms_docs": live.lexical.size,
            "chunks": self.store.count_chunks(),
            "documents": len(self.store.documents()),
            "device": live.vectors.device,
            "embedder": manifest.get("embedder"),
        }

    def scoped_info(self, collections: list[str]) -> dict:
        """What `info` says, for the documents of `collections` only."""
        docs = self.store.documents(collections=collections)
        return {
            "version": self.versions.manifest().get("version"),
            "chunks": sum(d.chunks for d in docs),
            "documents": len(docs),
        }

    # ---- writing -------------------------------------------------------------------------------
    @contextmanager
    def writing(self):
        """Exclusive write access across processes; yields the freshly loaded, repaired vector index."""
        if self._bulk is not None:
            yield self._bulk
            return
        with self._locked():
            reason = self._check_embedder()
            if reason:  # vectors from another embedder must not be mixed with ours: re-embed them all first
                log.warning("index built by another embedder (%s): re-embedding every chunk", reason)
                index = self._reembed_all()
            else:
                index = self._load(self.versions.current())
                self._repair(index)
            yield index

    @contextmanager
    def _locked(self):
        with locked(self.data_dir / ".write.lock"):
            yield

    def rollback(self, version: str | None = None) -> dict:
        """Make a kept index version live again (default: the one before the live one). It must have been built
        with the configured embedder. The store is not versioned: the next write reconciles the index with it."""
        with self._locked():
            kept = self.versions.versions()
            live = next((i for i, v in enumerate(kept) if v["live"]), len(kept))
            if version is None:
                if live == 0 or not kept:
                    raise NotFound("no earlier index version is kept (RAG_INDEX__KEEP_VERSIONS)")
                version = kept[live - 1]["version"]
            target = next((v for v in kept if v["version"] == version), None)
            if target is None:
                raise NotFound(f"no index version {version!r} (see `rag index versions`)")
            built_with = (target.get("embedder") or {}).get("name")
            if built_with != self.embedder.name or target.get("dim") != self.embedder.dim:
                raise BadInput(
                    f"index version {version} was built with embedder {built_with!r} "
                    f"(dim {target.get('dim')}); the configured one is {self.embedder.name!r}"
                )
            self.versions.activate(version)
            return target

    @contextmanager
    def bulk(self):
        """Hold the write lock over many documents and publish once at the end (also on error: nothing is lost).

        Within a bulk, chunks are embedded in blocks of `EMBED_BLOCK` across documents rather than one document
        at a time, so many small documents still make full, length-sorted batches."""
        with self.writing() as index:
            self._bulk, self._pending = index, {}
            try:
                yield
            finally:
                try:
                    self._embed_pending(index)
                finally:  # a failed embedding leaves rows without vectors: the next write repairs them
                    self._bulk, self._pending = None, {}
                    self._publish(index)

    def _embed_pending(self, index: FaissIndex) -> None:
        """Embed the chunks a bulk has stored but not embedded yet, in one length-sorted call."""
        pending, self._pending = self._pending, {}
        if pending:
            index.add(list(pending), self._embed(list(pending.values())))

    def repair(self) -> dict:
        """Make the indexes agree with SQLite; publishes a new version only when something changed."""
        with self.writing() as index:
            pass
        return {"vectors": index.size}

    def _repair(self, index: FaissIndex) -> bool:
        have = set(index.ids().tolist())
        want = set(self.store.all_vids())
        extra, missing = sorted(have - want), sorted(want - have)
        if not extra and not missing:
            return False
        log.warning("index disagrees with the store: %d missing, %d stale vectors; repairing", len(missing), len(extra))
        index.remove(extra)
        rows = self.store.chunks_by_vid(missing)
        vids = [v for v in missing if v in rows]
        labels = self._contexts()
        texts = [self.vector_text(rows[v]["heading"], rows[v]["text"], labels.get(rows[v]["doc_id"], "")) for v in vids]
        index.add(vids, self._embed(texts))
        self._publish(index)
        return True

    def rebuild(self, rechunk: Callable[[Document, str], list[Chunk]] | None = None, progress=None) -> dict:
        """Recompute every document's profile, re-embed every stored chunk with the configured embedder and publish
        the vectors as a new version (after a change of embedder backend or model, of `chunk_context`, or of the
        profile rules; any write re-embeds too when it finds the index mismatched).

        With `rechunk` (document, its layout HTML -> chunks; the ingest side's chunker), every document whose
        layout HTML is kept is chunked again first, without parsing its file again (after a chunker change).
        A document without a readable layout file (or whose layout gives no chunks) keeps the chunks it has. Until
        the new version is published, queries may miss the re-chunked documents' new chunks."""
        rechunked, kept = 0, []
        with self._locked():
            if rechunk is not None:
                docs = self.store.documents()
                for i, doc in enumerate(docs, 1):
                    page_html = layout_html_path(self.data_dir, doc.id)
                    try:
                        chunks = rechunk(doc, page_html.read_text(encoding="utf-8")) if page_html.exists() else []
                    except (RagError, ValueError, UnicodeDecodeError) as exc:  # a damaged layout file: keep its chunks
                        log.warning("%s keeps its chunks: its layout HTML could not be read (%s)", doc.name, exc)
                        chunks = []
                    if chunks:
                        self.store.replace_chunks(doc.id, chunks)
                        rechunked += 1
                    else:
                        kept.append(doc.name)
                    if progress and (i % 25 == 0 or i == len(docs)):
                        progress(f"re-chunked {i}/{len(docs)} documents")
            profiles = self.refresh_profiles()
            if progress:
                progress(f"re-embedding {self.store.count_chunks()} chunks")
            index = self._reembed_all()
        return {
            "vectors": index.size,
            "embedder": self.identity(),
            "profiles": profiles,
            "rechunked": rechunked,
            "kept_chunks": kept,  # documents not re-chunked: no layout HTML kept, or it could not be read
        }

    def refresh_profiles(self) -> int:
        """Profiles made again from each document's layout HTML (`<data dir>/html`), its stored PDF metadata (read
        from the file when it is still there and none was stored) and its tags; returns how many were made."""
        done = 0
        for doc in self.store.documents():
            page_html = layout_html_path(self.data_dir, doc.id)
            if not page_html.exists():
                continue
            metadata = doc.profile.metadata
            if not metadata and doc.path.lower().endswith(".pdf") and Path(doc.path).is_file():
                metadata = pdf_metadata(Path(doc.path))
            profile = build_profile(doc.name, page_html.read_text(encoding="utf-8"), metadata, doc.pages)
            self.store.set_profile(doc.id, apply_tags(profile, doc.tags))
            done += 1
        self._router = self._sections = None
        return done

    def _reembed_all(self) -> FaissIndex:
        """A new vector index of every stored chunk, published (callers hold the write lock)."""
        index = self._load(None)
        rows, labels = self.store.all_texts(), self._contexts()
        cache = self._vector_cache()
        indexed: list[bytes] = []  # the cache keys of the texts indexed now (20 bytes each, not the texts)
        for start in range(0, len(rows), 4 * EMBED_BLOCK):
            part = rows[start : start + 4 * EMBED_BLOCK]
            texts = [self.vector_text(h, t, labels.get(d, "")) for _, h, t, d in part]
            index.add([v for v, _, _, _ in part], self._embed(texts))
            if cache is not None:
                indexed += [cache.key(t) for t in texts]
        self._publish(index)
        if cache is not None:  # every vector was just made again: the cache keeps only the texts indexed now
            dropped = cache.keep_only(indexed)
            if dropped:
                log.info("vector cache: dropped %d vectors of texts no longer indexed", dropped)
        return index

    def embed_chunks(self, chunks: list[Chunk], profile: DocumentProfile | None = None):
        context = self._context(profile or DocumentProfile())
        return self._embed([self.vector_text(c.heading, c.text, context) for c in chunks])

    def put_document(self, doc: Document, size: int, mtime: float, chunks: list[Chunk]) -> int:
        """Store a document with its chunks, replacing an earlier version at the same path; returns vectors added."""
        context = self._context(doc.profile)
        texts = [self.vector_text(c.heading, c.text, context) for c in chunks]
        if self._bulk is not None:
            return self._put_in_bulk(self._bulk, doc, size, mtime, chunks, texts)
        return self.put_prepared(doc, size, mtime, chunks, self._embed(texts))

    def put_prepared(self, doc: Document, size: int, mtime: float, chunks: list[Chunk], vecs) -> int:
        """`put_document` with the chunks' vectors already computed (in `chunks` order)."""
        with self.writing() as index:
            old_vids, new_vids = self.store.replace_document(doc, size, mtime, chunks)
            index.remove(old_vids)
            index.add(new_vids, vecs)
            if self._bulk is None:
                self._publish(index)
        return len(new_vids)

    def _put_in_bulk(
        self, index: FaissIndex, doc: Document, size: int, mtime: float, chunks: list[Chunk], texts: list[str]
    ) -> int:
        """In a bulk (writing to `index`): store now, embed later together with other documents' chunks (every
        EMBED_BLOCK chunks)."""
        old_vids, new_vids = self.store.replace_document(doc, size, mtime, chunks)
        for vid in old_vids:
            self._pending.pop(vid, None)
        index.remove(old_vids)  # ids never added (still pending) are simply not found
        self._pending.update(zip(new_vids, texts))
        if len(self._pending) >= EMBED_BLOCK:
            self._embed_pending(index)
        return len(new_vids)

    def remove_name(self, collection: str, path: str) -> tuple[str, str | None, int]:
        """Take one name (path) away from the collection (`Store.remove_name`): the document is deleted only when
        no other name refers to its content. Returns (what happened, the document's id, chunks removed)."""
        with self.writing() as index:
            what, doc_id, vids = self.store.remove_name(collection, path)
            for vid in vids:
                self._pending.pop(vid, None)
            index.remove(vids)
            if vids and self._bulk is None:
                self._publish(index)
        if what == "deleted" and doc_id:
            layout_html_path(self.data_dir, doc_id).unlink(missing_ok=True)
        return what, doc_id, len(vids)

    def delete_document(self, doc_id: str) -> int:
        with self.writing() as index:
            vids = self.store.delete_document(doc_id)
            for vid in vids:
                self._pending.pop(vid, None)
            index.remove(vids)
            if self._bulk is None:
                self._publish(index)
        layout_html_path(self.data_dir, doc_id).unlink(missing_ok=True)
        return len(vids)

    def _publish(self, index: FaissIndex) -> None:
        """Write the vectors and a BM25 index rebuilt from the store, as one new version."""
        cfg = self.settings.index
        kind = choose_kind(cfg.kind, index.size, cfg.ann_above)
        index.build_ann(kind, cfg.hnsw_m, cfg.hnsw_ef_search, cfg.ivf_nprobe)
        rows, labels = self.store.all_texts(), self._contexts()
        lexical = Bm25Index.build([v for v, _, _, _ in rows], [embed_text(h, t, labels.get(d, "")) for _, h, t, d in rows])
        meta = {"embedder": self.identity(), "lexical": {"kind": "bm25s", "count": lexical.size}}
        self.versions.publish(index, meta, extra=lexical.save)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
