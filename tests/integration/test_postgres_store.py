"""The PostgreSQL store against a real server: it survives a server restart (its pool replaces broken connections),
and an unreachable server is a clear error."""

import pytest

from rag.core.types import Chunk, Document
from rag.store.database import StoreUnavailable, open_database
from rag.store.sql import SqlStore


def _put(store: SqlStore, i: str) -> None:
    doc = Document(id=i, name=f"{i}.pdf", path=f"/x/{i}.pdf", collection="default", sha256=i, status="ok", pages=1)
    store.replace_document(doc, 1, 1.0, [Chunk(id=f"{i}-0", doc_id=i, page=1, text="text")])


def test_the_store_survives_a_server_restart(postgres, tmp_path):
    store = SqlStore(open_database(postgres.schema_url(), tmp_path, pool_min=2))
    _put(store, "before")
    postgres.restart()  # every pooled connection is now broken
    assert [d.id for d in store.documents()] == ["before"]
    _put(store, "after")
    assert sorted(d.id for d in store.documents()) == ["after", "before"]
    store.close()


def test_a_server_that_is_down_is_a_clear_error(postgres, tmp_path):
    url = postgres.schema_url().replace(f":{postgres.port}/", ":9/")
    with pytest.raises(StoreUnavailable, match=r"cannot connect to the PostgreSQL store at postgresql://rag@127.0.0.1:9/"):
        open_database(url, tmp_path, pool_timeout_s=0.5)
