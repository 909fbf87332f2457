"""API keys, scopes, rights, rate limits and safe file names (pure logic on a temporary store)."""

import sqlite3

import pytest

from rag.core.errors import BadInput, Forbidden, NotFound, Unauthorized
from rag.core.types import Filters
from rag.service.access import KeyRing, Principal, RateLimiter, auth_required, safe_filename
from rag.store.sql import SqlStore


def test_keys_are_stored_hashed_scoped_and_revocable(make_store):
    store = make_store()
    ring = KeyRing(store)
    token, record = ring.create(["hr", "finance"], "write", name="ops")
    assert token.startswith(f"rag_{record['id']}_") and len(token) > 40
    raw = [tuple(r) for r in store.sql.all("SELECT * FROM api_keys")]
    assert len(raw) == 1
    assert token not in repr(raw)  # only the sha256 is at rest
    who = ring.authenticate(token)
    assert who.key_id == record["id"] and who.rights == "write" and who.collections == {"hr", "finance"}
    with pytest.raises(Unauthorized):
        ring.authenticate(token + "x")
    ring.revoke(record["id"])
    with pytest.raises(Unauthorized):
        ring.authenticate(token)
    with pytest.raises(NotFound):
        ring.revoke(record["id"])
    assert ring.list()[0]["revoked_at"] is not None


@pytest.mark.parametrize("collections,rights", [([], "read"), (["hr"], "admin"), (["../etc"], "read"), ([".x"], "read")])
def test_bad_key_requests_are_refused(tmp_path, collections, rights):
    with pytest.raises(BadInput):
        KeyRing(SqlStore.sqlite(tmp_path / "s.sqlite")).create(collections, rights)


def test_existing_store_gains_the_keys_table(tmp_path):
    path = tmp_path / "s.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE documents (id TEXT PRIMARY KEY, name TEXT NOT NULL, path TEXT NOT NULL,"
        " collection TEXT NOT NULL DEFAULT 'default', sha256 TEXT NOT NULL, size INTEGER NOT NULL DEFAULT 0,"
        " mtime REAL NOT NULL DEFAULT 0, status TEXT NOT NULL, error TEXT, pages INTEGER NOT NULL DEFAULT 0,"
        " ingested_at TEXT); INSERT INTO documents(id,name,path,sha256,status) VALUES ('d','a','/a','s','ok');"
    )
    db.commit()
    db.close()
    store = SqlStore.sqlite(path)
    assert [d.id for d in store.documents()] == ["d"]
    KeyRing(store).create(["default"])
    assert len(store.keys()) == 1


def test_scope_narrows_queries_to_the_keys_collections():
    who = Principal("k1", "read", frozenset({"hr", "finance"}))
    collection, filters = who.scope(None, None)
    assert collection is None and filters.collections == ["finance", "hr"]
    assert who.scope("hr", None)[0] == "hr"
    for collection, filters in [
        ("legal", None),
        (None, Filters(collection="legal")),
        (None, Filters(collections=["hr", "legal"])),
    ]:
        with pytest.raises(Forbidden):
            who.scope(collection, filters)
    assert who.visible() == ["finance", "hr"] and who.visible("hr") == ["hr"]
    with pytest.raises(Forbidden):
        who.visible("legal")
    with pytest.raises(Forbidden):
        who.check_write()
    writer = Principal("k2", "write", frozenset({"hr"}))
    writer.check_write("hr")
    with pytest.raises(Forbidden):
        writer.check_write("legal")
    anyone = Principal()
    assert anyone.scope(None, None)[1].collections == [] and anyone.visible() is None


@pytest.mark.parametrize(
    "mode,host,required",
    [
        ("auto", "127.0.0.1", False),
        ("auto", "::1", False),
        ("auto", "localhost", False),
        ("auto", "0.0.0.0", True),
        ("auto", "10.1.2.3", True),
        ("auto", None, True),
        ("auto", "example.org", True),
        ("true", "127.0.0.1", True),
        ("false", "0.0.0.0", False),
    ],
)
def test_auth_is_off_by_default_only_on_loopback(mode, host, required):
    assert auth_required(mode, host) is required


def test_token_bucket_allows_a_burst_then_one_per_interval():
    now = [0.0]
    limiter = RateLimiter(3, clock=lambda: now[0])
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.take("a")
    assert 19 < wait <= 20  # 3 a minute: one token every 20 s
    assert limiter.take("b") == 0.0  # buckets are per key
    now[0] += 20.0
    assert limiter.take("a") == 0.0 and limiter.take("a") > 0
    assert RateLimiter(0).take("a") == 0.0


@pytest.mark.parametrize(
    "name,safe",
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("/abs/path/report.pdf", "report.pdf"),
        ("..", "upload"),
        ("", "upload"),
        (None, "upload"),
        (".bashrc", "bashrc"),
        ("a\x00b;rm -rf.pdf", "ab_rm -rf.pdf"),
        ("Årsrapport 2024.pdf", "Årsrapport 2024.pdf"),
        ("x" * 300 + ".pdf", "x" * 110 + ".pdf"),
    ],
)
def test_file_names_are_neutralised(name, safe):
    assert safe_filename(name) == safe
