"""The store's schema versions and its SQL adapter, on both backends; SQLite refused on a network file system."""

import json
import threading

import pytest
from typer.testing import CliRunner

from api.cli import app
from rag.core import filesystems
from rag.core.errors import RagError
from rag.core.filesystems import NetworkFilesystem, filesystem_type
from rag.core.settings import Settings
from rag.store.database import Row, StoreUnavailable, in_list, open_database, redact, to_pyformat
from rag.store.migrations import LATEST, MIGRATIONS, Migration, current_version, upgrade
from rag.store.sql import SqlStore

NOTES = Migration(LATEST + 1, "notes", "CREATE TABLE notes (id {serial}, body {text} NOT NULL, at {float})")


def test_a_new_store_is_at_the_latest_version_and_opening_it_again_applies_nothing(make_store):
    store = make_store()
    assert current_version(store.sql) == LATEST
    assert upgrade(store.sql) == []
    assert [tuple(r) for r in store.sql.all("SELECT version, name FROM schema_migrations")] == [
        (m.version, m.name) for m in MIGRATIONS
    ]


def test_a_table_added_later_is_written_once_and_migrates_either_backend_once(make_store):
    store = make_store()
    assert upgrade(store.sql, [*MIGRATIONS, NOTES]) == [NOTES.version]
    assert upgrade(store.sql, [*MIGRATIONS, NOTES]) == []
    with store.sql.write() as tx:
        ids = tx.insert_ids("INSERT INTO notes(body, at) VALUES (?, ?)", [("first", 1.5), ("second", 1e9 + 0.25)], "id")
    assert ids == sorted(ids) and len(set(ids)) == 2
    rows = store.sql.all("SELECT id, body, at FROM notes ORDER BY id")
    assert [(r["id"], r["body"], r["at"]) for r in rows] == [(ids[0], "first", 1.5), (ids[1], "second", 1e9 + 0.25)]
    # the store of this code now refuses it: its schema is newer than the code knows
    store.close()
    with pytest.raises(StoreUnavailable, match=f"schema version {NOTES.version}, newer than this code knows"):
        make_store()


def test_a_store_behind_the_code_is_refused_when_it_may_not_migrate_at_start(store_url, tmp_path):
    db = open_database(store_url, tmp_path)
    with pytest.raises(StoreUnavailable, match="at schema version 0; this code needs .*rag db upgrade"):
        SqlStore(db, migrate=False)
    db = open_database(store_url, tmp_path)
    assert upgrade(db) == [m.version for m in MIGRATIONS]
    store = SqlStore(db, migrate=False)
    assert store.documents() == []
    store.close()


def test_processes_starting_together_migrate_once(store_url, tmp_path):
    results: list[list[int]] = []
    barrier = threading.Barrier(4)

    def start():
        db = open_database(store_url, tmp_path)
        barrier.wait()
        try:
            results.append(upgrade(db))
        finally:
            db.close()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [[], [], [], [m.version for m in MIGRATIONS]]


def test_a_failed_migration_leaves_the_store_as_it_was(make_store):
    store = make_store()
    broken = Migration(LATEST + 1, "broken", "CREATE TABLE half (id {serial}); CREATE TABLE documents (id {text})")
    with pytest.raises(Exception, match="(?i)already exists"):
        upgrade(store.sql, [*MIGRATIONS, broken])
    assert current_version(store.sql) == LATEST
    assert upgrade(store.sql, [*MIGRATIONS, NOTES]) == [NOTES.version]  # `half` was rolled back with it: no clash


def test_rag_db_upgrade_and_status(store_url, tmp_path):
    run = lambda *args: CliRunner().invoke(  # noqa: E731
        app, ["--data-dir", str(tmp_path / "data"), "db", *args], env={"RAG_STORE__URL": store_url}
    )
    status = run("status", "--json")
    assert status.exit_code == 0, status.output
    where = redact(store_url) if store_url.startswith("postgresql") else store_url.removeprefix("sqlite://")
    assert json.loads(status.output) == {"store": where, "dialect": store_url.split(":")[0], "version": 0, "latest": LATEST}
    first = run("upgrade", "--json")
    assert first.exit_code == 0 and json.loads(first.output)["applied"] == [m.version for m in MIGRATIONS]
    again = run("upgrade")
    assert again.exit_code == 0 and f"schema version {LATEST} -> {LATEST} (nothing to apply)" in again.output
    assert json.loads(run("status", "--json").output)["version"] == LATEST


# ---- the adapter: pure logic ---------------------------------------------------------------------------------------
def test_placeholders_rows_and_lists_read_alike_on_both_backends():
    assert to_pyformat("SELECT 1 WHERE a=? AND b LIKE '5%'") == "SELECT 1 WHERE a=%s AND b LIKE '5%%'"
    row = Row((1, "x"), {"vid": 0, "text": 1})
    assert row[0] == 1 and row["text"] == "x" and dict(row) == {"vid": 1, "text": "x"} and tuple(row) == (1, "x")
    assert in_list("c", []) == ("1=0", []) and in_list("c", ["a", "b"]) == ("c IN (?,?)", ["a", "b"])
    assert redact("postgresql://rag:s3cret@db:5432/rag") == "postgresql://rag:***@db:5432/rag"


def test_store_urls(tmp_path):
    assert open_database("", tmp_path).where == str(tmp_path / "store.sqlite")
    assert open_database(f"sqlite://{tmp_path}/x.sqlite", tmp_path).where == f"{tmp_path}/x.sqlite"
    assert open_database(f"sqlite:///{tmp_path}/x.sqlite", tmp_path).where == f"{tmp_path}/x.sqlite"
    with pytest.raises(RagError, match="sqlite:///PATH or postgresql://"):
        open_database("mysql://u:pw@h/db", tmp_path)
    with pytest.raises(StoreUnavailable, match=r"cannot connect to the PostgreSQL store at postgresql://u:\*\*\*@127.0.0.1:9/x"):
        open_database("postgresql://u:pw@127.0.0.1:9/x?connect_timeout=1", tmp_path, pool_timeout_s=0.5)
    assert Settings().store.url == "" and Settings().store.migrate


# ---- SQLite on a network file system: refused ----------------------------------------------------------------------
MOUNTS = """\
22 1 0:21 / / rw,relatime - ext4 /dev/sda1 rw
40 22 0:35 / /mnt/shared rw,relatime - nfs4 server:/export rw,vers=4.2
41 40 0:36 / /mnt/shared/local rw,relatime - ext4 /dev/sdb1 rw
42 22 0:37 / /mnt/my\\040files rw - cifs //nas/files rw
"""


def test_the_file_system_of_a_path_is_its_deepest_mount():
    from pathlib import Path

    assert filesystem_type(Path("/mnt/shared/data/store.sqlite"), MOUNTS) == ("nfs4", "/mnt/shared")
    assert filesystem_type(Path("/mnt/shared/local/store.sqlite"), MOUNTS) == ("ext4", "/mnt/shared/local")
    assert filesystem_type(Path("/mnt/sharedother/x"), MOUNTS) == ("ext4", "/")
    assert filesystem_type(Path("/mnt/my files/x"), MOUNTS) == ("cifs", "/mnt/my files")


def test_sqlite_databases_on_a_network_file_system_are_refused(tmp_path, monkeypatch):
    from ingest.jobs.queue import make_huey
    from rag.retrieval.vector_cache import VectorCache

    table = tmp_path / "mountinfo"
    table.write_text(f"22 1 0:21 / / rw - ext4 /dev/sda1 rw\n40 22 0:35 / {tmp_path}/nfs rw - nfs4 server:/export rw\n")
    monkeypatch.setattr(filesystems, "MOUNTINFO", table)
    (tmp_path / "nfs").mkdir()  # the mount point
    shared = tmp_path / "nfs" / "data"
    with pytest.raises(NetworkFilesystem, match=r"SQLite store .* network file system \(nfs4 mounted at .*RAG_STORE__URL"):
        open_database("", shared)
    with pytest.raises(NetworkFilesystem, match="SQLite job queue"):
        make_huey(Settings(data_dir=shared))
    with pytest.raises(NetworkFilesystem, match=r"vector cache .* \(RAG_INDEX__VECTOR_CACHE=false\)"):
        VectorCache(shared / "vector_cache.sqlite", {"model": "x"}, 4).embed(["a"], lambda texts: [[0.0] * 4])
    assert list((tmp_path / "nfs").iterdir()) == []  # refused before anything was created there
    assert open_database("", tmp_path / "local").where.endswith("local/store.sqlite")  # a local disk is fine
