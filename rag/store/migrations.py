"""Versioned migrations of the store's schema, written once for SQLite and PostgreSQL.

Each migration is a version number, a name, DDL with the type words of `rag.store.database.TYPES` (`{serial}`,
`{text}`, `{float}`, `{bigint}`), and optionally a Python step for what DDL cannot say. The versions applied are rows
of `schema_migrations`; `upgrade` applies the missing ones in order, in one transaction holding the migration lock
(SQLite: the write lock; PostgreSQL: an advisory lock), so processes starting together migrate once. A database
whose version is newer than this code's is refused rather than written by code that does not know its tables.

A new table or column is one more entry at the end of `MIGRATIONS`, never an edit of an applied one.

Version 1 is the schema as it was before migrations were versioned. An SQLite store made then has no
`schema_migrations` table: version 1 runs on it with `CREATE ... IF NOT EXISTS` (its tables stay as they are) and
adds the columns that older stores lack, so every store made by any earlier version reaches version 1 intact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rag.store.database import Database, StoreUnavailable, Transaction, render, utc_now

BASELINE = """
CREATE TABLE IF NOT EXISTS documents (
    id {text} PRIMARY KEY,
    name {text} NOT NULL,
    path {text} NOT NULL,
    collection {text} NOT NULL DEFAULT 'default',
    sha256 {text} NOT NULL,
    size {bigint} NOT NULL DEFAULT 0,
    mtime {float} NOT NULL DEFAULT 0,
    status {text} NOT NULL,
    error {text},
    pages INTEGER NOT NULL DEFAULT 0,
    ingested_at {text},
    profile {text} NOT NULL DEFAULT '{{}}',
    text_sha256 {text} NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX IF NOT EXISTS documents_path ON documents(collection, path);
CREATE TABLE IF NOT EXISTS chunks (
    vid {serial},
    id {text} NOT NULL UNIQUE,
    doc_id {text} NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    page INTEGER NOT NULL,
    bbox {text} NOT NULL,
    heading {text} NOT NULL DEFAULT '',
    text {text} NOT NULL,
    html {text} NOT NULL DEFAULT '',
    ord INTEGER NOT NULL DEFAULT 0,
    addresses_model INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE TABLE IF NOT EXISTS document_tags (
    doc_id {text} NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    key {text} NOT NULL,
    value {text} NOT NULL,
    PRIMARY KEY (doc_id, key)
);
CREATE INDEX IF NOT EXISTS document_tags_kv ON document_tags(key, value);
CREATE TABLE IF NOT EXISTS document_aliases (
    collection {text} NOT NULL,
    path {text} NOT NULL,
    doc_id {text} NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    name {text} NOT NULL,
    size {bigint} NOT NULL DEFAULT 0,
    mtime {float} NOT NULL DEFAULT 0,
    added_at {text},
    PRIMARY KEY (collection, path)
);
CREATE INDEX IF NOT EXISTS document_aliases_doc ON document_aliases(doc_id);
CREATE INDEX IF NOT EXISTS documents_sha ON documents(collection, sha256);
CREATE TABLE IF NOT EXISTS jobs (
    id {text} PRIMARY KEY,
    collection {text} NOT NULL,
    state {text} NOT NULL,
    key_id {text},
    created_at {text} NOT NULL,
    started_at {text},
    finished_at {text},
    error {text},
    worker {text},
    heartbeat {float},
    cancel INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS job_files (
    job_id {text} NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    n INTEGER NOT NULL,
    name {text} NOT NULL,
    path {text} NOT NULL,
    key {text},
    status {text} NOT NULL DEFAULT 'queued',
    reason {text} NOT NULL DEFAULT '',
    pages INTEGER NOT NULL DEFAULT 0,
    chunks INTEGER NOT NULL DEFAULT 0,
    doc_id {text},
    seconds {float} NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, n)
);
CREATE TABLE IF NOT EXISTS counters (name {text} PRIMARY KEY, value {bigint} NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS api_keys (
    id {text} PRIMARY KEY,
    hash {text} NOT NULL UNIQUE,
    rights {text} NOT NULL,
    collections {text} NOT NULL,
    name {text} NOT NULL DEFAULT '',
    created_at {text} NOT NULL,
    revoked_at {text}
);
"""


def _sqlite_columns_added_later(tx: Transaction, dialect: str) -> None:
    """Columns added to SQLite stores after they were created (CREATE TABLE IF NOT EXISTS leaves an old table alone),
    and the index over one of them. A PostgreSQL store was always created with them."""
    if dialect == "sqlite":
        have = {r[1] for r in tx.execute("PRAGMA table_info(documents)").fetchall()}
        if "profile" not in have:
            tx.execute("ALTER TABLE documents ADD COLUMN profile TEXT NOT NULL DEFAULT '{}'")
        if "text_sha256" not in have:
            tx.execute("ALTER TABLE documents ADD COLUMN text_sha256 TEXT NOT NULL DEFAULT ''")
        if "addresses_model" not in {r[1] for r in tx.execute("PRAGMA table_info(chunks)").fetchall()}:
            tx.execute("ALTER TABLE chunks ADD COLUMN addresses_model INTEGER NOT NULL DEFAULT 0")
    tx.execute("CREATE INDEX IF NOT EXISTS documents_text ON documents(collection, text_sha256)")


CONVERSATIONS = """
CREATE TABLE IF NOT EXISTS conversations (
    seq {serial},
    id {text} NOT NULL UNIQUE,
    owner {text} NOT NULL,
    title {text} NOT NULL DEFAULT '',
    collection {text},
    created_at {text} NOT NULL,
    updated_at {text} NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_owner ON conversations(owner, updated_at);
CREATE TABLE IF NOT EXISTS conversation_messages (
    conversation_id {text} NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    n INTEGER NOT NULL,
    question {text} NOT NULL,
    rewritten {text} NOT NULL,
    answer {text} NOT NULL,
    index_version {text},
    created_at {text} NOT NULL,
    PRIMARY KEY (conversation_id, n)
);
CREATE TABLE IF NOT EXISTS feedback (
    seq {serial},
    id {text} NOT NULL UNIQUE,
    owner {text} NOT NULL,
    rating {text} NOT NULL,
    comment {text} NOT NULL DEFAULT '',
    question {text} NOT NULL,
    asked {text} NOT NULL DEFAULT '',
    answer {text} NOT NULL,
    refused INTEGER NOT NULL DEFAULT 0,
    citations {text} NOT NULL DEFAULT '[]',
    model {text},
    index_version {text},
    collection {text},
    conversation_id {text},
    message INTEGER,
    created_at {text} NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_owner ON feedback(owner, created_at);
CREATE UNIQUE INDEX IF NOT EXISTS feedback_turn ON feedback(owner, conversation_id, message)
    WHERE conversation_id IS NOT NULL
"""
# `seq` orders rows made in the same second as they were made (`created_at` has seconds; ids are random).
# Conversations and feedback belong to an `owner`: the id of the API key that made them ('' without a key).
# Feedback has no foreign key to its conversation: it is evaluation data and stays when the conversation is deleted.


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    ddl: str = ""
    step: Callable[[Transaction, str], None] | None = None  # (transaction, dialect), after the DDL


MIGRATIONS: list[Migration] = [
    Migration(1, "documents, chunks, tags, aliases, jobs, counters, API keys", BASELINE, _sqlite_columns_added_later),
    Migration(2, "conversations and feedback", CONVERSATIONS),
]
LATEST = MIGRATIONS[-1].version

VERSIONS_TABLE = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name {text} NOT NULL, applied_at {text} NOT NULL)"""


def current_version(db: Database) -> int:
    """The highest migration applied to `db` (0: none, or a store made before migrations were versioned)."""
    if db.dialect == "sqlite":
        exists = db.one("SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_migrations'")
    else:
        exists = db.one("SELECT to_regclass('schema_migrations')")[0]
    if not exists:
        return 0
    return int(db.one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")[0])


def _refuse_newer(version: int, db: Database, latest: int = LATEST) -> None:
    if version > latest:
        raise StoreUnavailable(
            f"the store at {db.where} is at schema version {version}, newer than this code knows ({latest}): "
            "run the version of the service that upgraded it, or a newer one"
        )


def upgrade(db: Database, migrations: list[Migration] | None = None) -> list[int]:
    """Apply every migration `db` lacks, in order, in one transaction; returns the versions applied."""
    migrations = MIGRATIONS if migrations is None else migrations
    with db.migrating() as tx:
        for statement in render(VERSIONS_TABLE, db.dialect):
            tx.execute(statement)
        have = int(tx.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0])
        _refuse_newer(have, db, max((m.version for m in migrations), default=0))
        applied = []
        for m in migrations:
            if m.version <= have:
                continue
            for statement in render(m.ddl, db.dialect) if m.ddl else []:
                tx.execute(statement)
            if m.step is not None:
                m.step(tx, db.dialect)
            tx.execute("INSERT INTO schema_migrations(version, name, applied_at) VALUES (?,?,?)", (m.version, m.name, utc_now()))
            applied.append(m.version)
    return applied


def require_current(db: Database) -> None:
    """Refuse a store whose schema is behind this code (when the service may not migrate it at start)."""
    version = current_version(db)
    _refuse_newer(version, db)
    if version < LATEST:
        raise StoreUnavailable(
            f"the store at {db.where} is at schema version {version}; this code needs {LATEST}: run `rag db upgrade` "
            "(or start with RAG_STORE__MIGRATE=true)"
        )
