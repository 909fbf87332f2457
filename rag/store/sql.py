"""The store of documents, chunks, tags, aliases, API keys and counters, written once over a `Database` (SQLite, the
embedded default, or PostgreSQL: rag/store/database.py). Vector ids for the indexes are the chunks' `vid`s (SQLite
rowids; a PostgreSQL identity column), never reused. The schema is versioned (rag/store/migrations.py)."""

import json
from pathlib import Path

from rag.core.errors import NotFound
from rag.core.types import Chunk, Document, DocumentProfile
from rag.store.database import Database, SqliteDatabase, Transaction, in_list, marks, open_database, utc_now
from rag.store.migrations import require_current, upgrade

CHUNK_INSERT = "INSERT INTO chunks(id,doc_id,page,bbox,heading,text,html,ord,addresses_model) VALUES (?,?,?,?,?,?,?,?,?)"


def _insert_chunks(tx: Transaction, doc_id: str, chunks: list[Chunk]) -> list[int]:
    """Insert a document's chunks; returns their vector ids in the order of `chunks`."""
    rows = [(c.id, doc_id, c.page, json.dumps(c.bbox), c.heading, c.text, c.html, c.ord, int(c.addresses_model)) for c in chunks]
    return tx.insert_ids(CHUNK_INSERT, rows, "vid")


def database_of(settings) -> Database:
    """The database `RAG_STORE__*` names (default: `<data dir>/store.sqlite`), opened, not migrated."""
    cfg = settings.store
    return open_database(cfg.url, Path(settings.data_dir), cfg.pool_min, cfg.pool_max, cfg.pool_timeout_s)


def open_store(settings) -> "SqlStore":
    """The store of these settings, migrated at open (or checked, with RAG_STORE__MIGRATE=false)."""
    return SqlStore(database_of(settings), migrate=settings.store.migrate)


class SqlStore:
    """Documents and chunks over SQLite or PostgreSQL. Opening it applies the schema's missing migrations
    (`migrate`; else a store behind this code is refused, naming `rag db upgrade`)."""

    def __init__(self, db: Database, migrate: bool = True):
        self.sql = db
        try:
            if migrate:
                upgrade(db)
            else:
                require_current(db)
        except BaseException:
            db.close()
            raise

    @classmethod
    def sqlite(cls, path: Path) -> "SqlStore":
        """The store in one SQLite file."""
        return cls(SqliteDatabase(path))

    def close(self) -> None:
        self.sql.close()

    def find_document(self, collection: str, path: str) -> Document | None:
        row = self.sql.one("SELECT * FROM documents WHERE collection=? AND path=?", (collection, path))
        return self._doc(row, self._tags([row["id"]]).get(row["id"], {})) if row else None

    def _tags(self, doc_ids: list[str] | None = None) -> dict[str, dict[str, str]]:
        """Tags per document id (of the given documents, or of all)."""
        sql, args = "SELECT doc_id, key, value FROM document_tags", list[str]()
        if doc_ids is not None:
            where, args = in_list("doc_id", doc_ids)
            sql += " WHERE " + where
        out: dict[str, dict[str, str]] = {}
        for doc_id, key, value in self.sql.all(sql + " ORDER BY key", args):
            out.setdefault(doc_id, {})[key] = value
        return out

    def _aliases(self, doc_ids: list[str] | None = None) -> dict[str, list[str]]:
        """Other names (paths) of each document: the same content found under them (`add_alias`)."""
        sql, args = "SELECT doc_id, path FROM document_aliases", list[str]()
        if doc_ids is not None:
            where, args = in_list("doc_id", doc_ids)
            sql += " WHERE " + where
        out: dict[str, list[str]] = {}
        for doc_id, path in self.sql.all(sql + " ORDER BY added_at, path", args):
            out.setdefault(doc_id, []).append(path)
        return out

    def find_duplicate(self, collection: str, sha256: str, path: str) -> Document | None:
        """The stored (status ok) document of a collection with this content under another path, if any."""
        row = self.sql.one(
            "SELECT * FROM documents WHERE collection=? AND sha256=? AND path<>? AND status='ok' ORDER BY ingested_at LIMIT 1",
            (collection, sha256, path),
        )
        return self.document(row["id"]) if row else None

    def find_near_duplicate(self, collection: str, text_sha256: str, sha256: str) -> Document | None:
        """A stored document of the collection with the same text (`text_sha256`) in other bytes, if any."""
        if not text_sha256:
            return None
        row = self.sql.one(
            "SELECT id FROM documents WHERE collection=? AND text_sha256=? AND sha256<>? ORDER BY ingested_at LIMIT 1",
            (collection, text_sha256, sha256),
        )
        return self.document(row["id"]) if row else None

    def add_alias(self, doc_id: str, collection: str, path: str, name: str, size: int = 0, mtime: float = 0.0) -> None:
        """Record `path` as another name of a stored document (the same content found there)."""
        with self.sql.write(serial=True) as db:
            db.execute(
                "INSERT INTO document_aliases(collection,path,doc_id,name,size,mtime,added_at) VALUES (?,?,?,?,?,?,?)"
                " ON CONFLICT(collection, path) DO UPDATE SET doc_id=excluded.doc_id, name=excluded.name,"
                " size=excluded.size, mtime=excluded.mtime",  # an alias seen again keeps its place among the others
                (collection, path, doc_id, name, size, mtime, utc_now()),
            )

    def remove_name(self, collection: str, path: str) -> tuple[str, str | None, list[int]]:
        """Take one name away: an alias is dropped; a document's own path gives way to its oldest alias (the
        document stays, under that name); a document with no other name is deleted. Returns (what happened:
        'alias' | 'renamed' | 'deleted' | 'none', the document's id, the vector ids to drop)."""
        with self.sql.write(serial=True) as db:
            alias = db.execute("SELECT doc_id FROM document_aliases WHERE collection=? AND path=?", (collection, path)).fetchone()
            if alias:
                db.execute("DELETE FROM document_aliases WHERE collection=? AND path=?", (collection, path))
                return "alias", alias[0], []
            doc = db.execute("SELECT id FROM documents WHERE collection=? AND path=?", (collection, path)).fetchone()
            if doc is None:
                return "none", None, []
            if self._promote(db, doc[0]):
                return "renamed", doc[0], []
            return "deleted", doc[0], self._delete(db, doc[0])

    @staticmethod
    def _promote(db: Transaction, doc_id: str) -> bool:
        """Give a document the path and name of its oldest alias (dropping that alias); False when it has none."""
        alias = db.execute(
            "SELECT path, name, size, mtime FROM document_aliases WHERE doc_id=? ORDER BY added_at, path LIMIT 1", (doc_id,)
        ).fetchone()
        if alias is None:
            return False
        db.execute("DELETE FROM document_aliases WHERE doc_id=? AND path=?", (doc_id, alias["path"]))
        db.execute(
            "UPDATE documents SET path=?, name=?, size=?, mtime=? WHERE id=?",
            (alias["path"], alias["name"], alias["size"], alias["mtime"], doc_id),
        )
        return True

    @staticmethod
    def _delete(db: Transaction, doc_id: str) -> list[int]:
        vids = [r[0] for r in db.execute("SELECT vid FROM chunks WHERE doc_id=?", (doc_id,)).fetchall()]
        db.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
        db.execute("DELETE FROM document_tags WHERE doc_id=?", (doc_id,))
        db.execute("DELETE FROM document_aliases WHERE doc_id=?", (doc_id,))
        db.execute("DELETE FROM documents WHERE id=?", (doc_id,))
        return vids

    @staticmethod
    def _write_tags(db: Transaction, doc_id: str, tags: dict[str, str]) -> None:
        db.execute("DELETE FROM document_tags WHERE doc_id=?", (doc_id,))
        db.executemany(
            "INSERT INTO document_tags(doc_id, key, value) VALUES (?,?,?)", [(doc_id, k, v) for k, v in sorted(tags.items())]
        )

    def set_tags(self, doc_id: str, tags: dict[str, str]) -> None:
        """Replace a document's tags (nothing is re-embedded: tags live beside the chunks)."""
        with self.sql.write(serial=True) as db:
            self._write_tags(db, doc_id, tags)

    def replace_document(self, doc: Document, size: int, mtime: float, chunks: list[Chunk]) -> tuple[list[int], list[int]]:
        """Store a parsed document and its chunks, replacing any earlier version at the same path.

        Returns (old vector ids to remove, new vector ids in the order of `chunks`). One transaction:
        a crash leaves either the old version or the new one, never half of each.
        """
        with self.sql.write(serial=True) as db:
            old = db.execute("SELECT id FROM documents WHERE collection=? AND path=?", (doc.collection, doc.path)).fetchone()
            old_vids: list[int] = []
            # the path was another document's alias: it now holds content of its own
            db.execute("DELETE FROM document_aliases WHERE collection=? AND path=?", (doc.collection, doc.path))
            kept = []
            if old and old["id"] == doc.id:  # the same version again (forced): its aliases stay with it
                kept = db.execute("SELECT * FROM document_aliases WHERE doc_id=?", (doc.id,)).fetchall()
                old_vids = self._delete(db, old["id"])
            # the old version stays, under its oldest alias, when another name still refers to its content
            elif old and not self._promote(db, old["id"]):
                old_vids = self._delete(db, old["id"])
            db.execute(
                "INSERT INTO documents(id,name,path,collection,sha256,size,mtime,status,error,pages,ingested_at,profile,"
                "text_sha256) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    doc.id,
                    doc.name,
                    doc.path,
                    doc.collection,
                    doc.sha256,
                    size,
                    mtime,
                    doc.status,
                    doc.error,
                    doc.pages,
                    utc_now(),
                    doc.profile.model_dump_json(),
                    doc.text_sha256,
                ),
            )
            self._write_tags(db, doc.id, doc.tags)
            db.executemany(
                "INSERT INTO document_aliases(collection,path,doc_id,name,size,mtime,added_at) VALUES (?,?,?,?,?,?,?)",
                [tuple(r[k] for k in ("collection", "path", "doc_id", "name", "size", "mtime", "added_at")) for r in kept],
            )
            new_vids = _insert_chunks(db, doc.id, chunks)
            for name, value in (("documents_ingested", 1), ("pages_ingested", doc.pages), ("chunks_ingested", len(chunks))):
                db.execute(
                    "INSERT INTO counters(name, value) VALUES (?, ?)"
                    " ON CONFLICT(name) DO UPDATE SET value = counters.value + excluded.value",
                    (name, value),
                )
            return old_vids, new_vids

    def replace_chunks(self, doc_id: str, chunks: list[Chunk]) -> tuple[list[int], list[int]]:
        """Give a stored document a new set of chunks (re-chunked from its layout), keeping the document, its tags
        and profile; returns (old vector ids, new vector ids in `chunks` order). One transaction."""
        with self.sql.write(serial=True) as db:
            if db.execute("SELECT 1 FROM documents WHERE id=?", (doc_id,)).fetchone() is None:
                raise NotFound(f"no document {doc_id!r}")
            old_vids = [r[0] for r in db.execute("SELECT vid FROM chunks WHERE doc_id=?", (doc_id,)).fetchall()]
            db.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
            return old_vids, _insert_chunks(db, doc_id, chunks)

    def delete_document(self, doc_id: str) -> list[int]:
        """Remove a document and its chunks; returns the vector ids to drop from the index."""
        with self.sql.write(serial=True) as db:
            return self._delete(db, doc_id)

    def documents(self, collection: str | None = None, collections: list[str] | None = None) -> list[Document]:
        """Stored documents, of one collection or of any of `collections` when given (an empty list: none)."""
        where, args = [], []
        if collection:
            where.append("collection=?")
            args.append(collection)
        if collections is not None:
            cond, more = in_list("collection", collections)
            where.append(cond)
            args += more
        sql = (
            "SELECT d.*, (SELECT COUNT(*) FROM chunks c WHERE c.doc_id=d.id) AS n FROM documents d"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY name"
        )
        rows = self.sql.all(sql, args)
        tags, aliases = self._tags(), self._aliases()
        return [self._doc(r, tags.get(r["id"], {}), aliases.get(r["id"], [])) for r in rows]

    def chunks_by_vid(self, vids: list[int]) -> dict[int, dict]:
        """Chunk rows joined with their document's name, keyed by vector id."""
        if not vids:
            return {}
        cond, args = in_list("c.vid", vids)
        rows = self.sql.all(
            "SELECT c.*, d.name AS doc_name, d.collection, d.profile AS doc_profile FROM chunks c"
            " JOIN documents d ON d.id=c.doc_id WHERE " + cond,
            args,
        )
        return {r["vid"]: dict(r) for r in rows}

    def vids_in_collection(self, collection: str) -> list[int]:
        rows = self.sql.all("SELECT c.vid FROM chunks c JOIN documents d ON d.id=c.doc_id WHERE d.collection=?", (collection,))
        return [r[0] for r in rows]

    def vids_matching(self, filters) -> list[int]:
        """Vector ids of the chunks a `Filters` admits (collection, documents by name or id, page range,
        document tags: every key=value given must be one of the document's tags)."""
        where, args = [], []
        if filters.collection:
            where.append("d.collection=?")
            args.append(filters.collection)
        if filters.collections:
            cond, more = in_list("d.collection", filters.collections)
            where.append(cond)
            args += more
        if filters.docs:
            names = marks(filters.docs)
            # resolved to ids first, so that the chunks are found through their doc_id index rather than a scan
            where.append(f"c.doc_id IN (SELECT id FROM documents WHERE name IN ({names}) OR id IN ({names}))")
            args += list(filters.docs) * 2
        if filters.page_from is not None:
            where.append("c.page>=?")
            args.append(filters.page_from)
        if filters.page_to is not None:
            where.append("c.page<=?")
            args.append(filters.page_to)
        for key, value in sorted(filters.tags.items()):
            where.append("EXISTS (SELECT 1 FROM document_tags t WHERE t.doc_id=d.id AND t.key=? AND t.value=?)")
            args += [key, value]
        sql = "SELECT c.vid FROM chunks c JOIN documents d ON d.id=c.doc_id" + (" WHERE " + " AND ".join(where) if where else "")
        return [r[0] for r in self.sql.all(sql, args)]

    def all_texts(self) -> list[tuple[int, str, str, str]]:
        """(vector id, heading, text, document id) of every chunk, for rebuilding the indexes."""
        rows = self.sql.all("SELECT vid, heading, text, doc_id FROM chunks ORDER BY vid")
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def headings(self) -> list[tuple[str, str]]:
        """The distinct (document id, heading) pairs of the chunks."""
        return [(r[0], r[1]) for r in self.sql.all("SELECT DISTINCT doc_id, heading FROM chunks")]

    def set_profile(self, doc_id: str, profile: DocumentProfile) -> None:
        with self.sql.write(serial=True) as db:
            db.execute("UPDATE documents SET profile=? WHERE id=?", (profile.model_dump_json(), doc_id))

    def all_vids(self) -> list[int]:
        return [r[0] for r in self.sql.all("SELECT vid FROM chunks")]

    def collections(self) -> list[str]:
        """The collections that hold documents, by name."""
        return [r[0] for r in self.sql.all("SELECT DISTINCT collection FROM documents ORDER BY collection")]

    def totals(self) -> dict:
        """What is stored now (documents by status, pages, chunks) and what was ever ingested (counters)."""
        by_status = {r[0]: r[1] for r in self.sql.all("SELECT status, COUNT(*) FROM documents GROUP BY status")}
        pages = self.sql.one("SELECT COALESCE(SUM(pages), 0) FROM documents")[0]
        counters = {r[0]: r[1] for r in self.sql.all("SELECT name, value FROM counters")}
        return {"documents": by_status, "pages": pages, "chunks": self.count_chunks(), "counters": counters}

    def file_index(self, collection: str) -> dict[str, dict]:
        """path -> {id, size, mtime, status, sha256} of every document of a collection and of every alias (another
        path of a document's content, with that file's size and mtime), for re-indexing."""
        rows = self.sql.all("SELECT id, path, size, mtime, status, sha256 FROM documents WHERE collection=?", (collection,))
        out = {r["path"]: {k: r[k] for k in ("id", "size", "mtime", "status", "sha256")} for r in rows}
        for r in self.sql.all(
            "SELECT a.path, a.doc_id AS id, a.size, a.mtime, d.status, d.sha256 FROM document_aliases a"
            " JOIN documents d ON d.id=a.doc_id WHERE a.collection=?",
            (collection,),
        ):
            out[r["path"]] = {k: r[k] for k in ("id", "size", "mtime", "status", "sha256")}
        return out

    def document(self, doc_id: str) -> Document | None:
        row = self.sql.one(
            "SELECT d.*, (SELECT COUNT(*) FROM chunks c WHERE c.doc_id=d.id) AS n FROM documents d WHERE id=?", (doc_id,)
        )
        return self._doc(row, self._tags([doc_id]).get(doc_id, {}), self._aliases([doc_id]).get(doc_id, [])) if row else None

    def count_chunks(self) -> int:
        return self.sql.one("SELECT COUNT(*) FROM chunks")[0]

    # ---- API keys (only hashes are stored) ------------------------------------------------------
    def add_key(self, key_id: str, digest: str, rights: str, collections: list[str], name: str = "") -> None:
        with self.sql.write() as db:
            db.execute(
                "INSERT INTO api_keys(id,hash,rights,collections,name,created_at) VALUES (?,?,?,?,?,?)",
                (key_id, digest, rights, json.dumps(sorted(collections)), name, utc_now()),
            )

    def key_by_hash(self, digest: str) -> dict | None:
        """The live (not revoked) key with this sha256, or None."""
        row = self.sql.one("SELECT * FROM api_keys WHERE hash=? AND revoked_at IS NULL", (digest,))
        return self._key(row) if row else None

    def keys(self) -> list[dict]:
        return [self._key(r) for r in self.sql.all("SELECT * FROM api_keys ORDER BY created_at, id")]

    def revoke_key(self, key_id: str) -> bool:
        """Mark a key revoked; False when no live key has this id."""
        with self.sql.write() as db:
            cur = db.execute("UPDATE api_keys SET revoked_at=? WHERE id=? AND revoked_at IS NULL", (utc_now(), key_id))
            return cur.rowcount == 1

    @staticmethod
    def _key(row) -> dict:
        return {
            "id": row["id"],
            "rights": row["rights"],
            "collections": json.loads(row["collections"]),
            "name": row["name"],
            "created_at": row["created_at"],
            "revoked_at": row["revoked_at"],
        }

    @staticmethod
    def _doc(row, tags: dict[str, str] | None = None, aliases: list[str] | None = None) -> Document:
        keys = row.keys()
        return Document(
            id=row["id"],
            name=row["name"],
            path=row["path"],
            collection=row["collection"],
            sha256=row["sha256"],
            status=row["status"],
            error=row["error"],
            pages=row["pages"],
            chunks=row["n"] if "n" in keys else 0,
            ingested_at=row["ingested_at"],
            tags=tags or {},
            aliases=aliases or [],
            text_sha256=row["text_sha256"] if "text_sha256" in keys else "",
            profile=DocumentProfile.model_validate_json(row["profile"]) if "profile" in keys else DocumentProfile(),
        )
