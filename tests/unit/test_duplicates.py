"""No document stored twice: the same content (sha256) under another name in a collection is reported as a
duplicate of the stored document, recorded as its alias and not embedded again; removing one name keeps the
document while another refers to it. Through the pipeline, REST, the CLI and re-indexing (fake embedder)."""

import os
import shutil

import pytest
from typer.testing import CliRunner

import api.cli.commands as commands
import api.cli.state as cli_state
from ingest.jobs.queue import run_job
from ingest.jobs.reindex import reindex
from ingest.pipeline import Ingestor
from rag.core.settings import Source
from rag.store.jobs import JobStore
from tests.helpers import office_docs
from tests.helpers.apps import client, make_app


@pytest.fixture()
def env(tmp_path):
    _, services = make_app(tmp_path / "data")
    src = tmp_path / "src"
    src.mkdir()
    office_docs.make_docx(src / "policy.docx")
    return services, src


def count(services):
    return services.kb.store.count_chunks(), len(services.kb.store.documents())


def test_a_copy_under_another_name_is_an_alias_and_removing_names_keeps_the_document_while_one_is_left(env):
    services, src = env
    ingestor = Ingestor(services, processes=1)
    first = ingestor.ingest_file(src / "policy.docx", "hr")
    before = count(services)
    shutil.copy(src / "policy.docx", src / "policy-copy.pdf")  # a DOCX under another name (and a wrong extension)
    second = ingestor.ingest_file(src / "policy-copy.pdf", "hr")
    assert second.status == "duplicate" and second.doc_id == first.doc_id and second.chunks == 0
    assert second.reason.startswith(f"duplicate of policy.docx ({first.doc_id}): same content")
    assert count(services) == before  # nothing stored or embedded again
    doc = services.kb.store.document(first.doc_id)
    assert doc.aliases == [str((src / "policy-copy.pdf").resolve())]
    assert ingestor.ingest_file(src / "policy-copy.pdf", "hr").status == "duplicate"  # again: still one alias
    assert services.kb.store.document(first.doc_id).aliases == doc.aliases
    # another collection is another set of documents
    assert ingestor.ingest_file(src / "policy-copy.pdf", "finance").status == "ok"
    # removing the document's own name: it stays under the alias
    what, doc_id, chunks = services.kb.remove_name("hr", str((src / "policy.docx").resolve()))
    assert (what, doc_id, chunks) == ("renamed", first.doc_id, 0)
    kept = services.kb.store.document(first.doc_id)
    assert kept.name == "policy-copy.pdf" and kept.aliases == [] and kept.chunks == before[0]
    # the last name goes: so does the document
    assert services.kb.remove_name("hr", kept.path)[0] == "deleted"
    assert services.kb.store.document(first.doc_id) is None


def test_two_copies_in_one_batch_are_stored_once(env):
    services, src = env
    shutil.copy(src / "policy.docx", src / "again.docx")
    report = Ingestor(services, processes=1).ingest_paths([src], "hr")
    assert sorted(f.status for f in report.files) == ["duplicate", "ok"]
    assert report.as_dict()["counts"] == {"ok": 1, "skipped": 0, "failed": 0, "duplicate": 1}
    assert len(services.kb.store.documents("hr")) == 1


def test_changed_content_under_a_name_that_shared_it_keeps_the_old_version_for_the_other_name(env):
    services, src = env
    ingestor = Ingestor(services, processes=1)
    shutil.copy(src / "policy.docx", src / "copy.docx")
    first = ingestor.ingest_file(src / "policy.docx", "hr")
    assert ingestor.ingest_file(src / "copy.docx", "hr").status == "duplicate"
    office_docs.make_docx(src / "policy.docx", paragraphs=3)  # policy.docx changes; copy.docx still holds the old
    changed = ingestor.ingest_file(src / "policy.docx", "hr")
    assert changed.status == "ok" and changed.doc_id != first.doc_id
    old = services.kb.store.document(first.doc_id)
    assert old is not None and old.path == str((src / "copy.docx").resolve()) and old.aliases == []


def test_duplicates_over_rest_and_delete_keeps_the_document_while_an_alias_refers_to_it(tmp_path, env):
    services, src = env
    app, services = make_app(tmp_path / "rest")
    c = client(app)
    data = (src / "policy.docx").read_bytes()
    jobs = JobStore(services.kb.store)
    job = c.post("/v1/documents", files=[("files", ("a.docx", data)), ("files", ("b.docx", data))], data={"collection": "hr"})
    assert job.status_code == 202, job.text
    assert run_job(services, jobs, job.json()["id"], "w", services.settings) == "done"
    files = c.get(f"/v1/jobs/{job.json()['id']}").json()["files"]
    assert [f["status"] for f in files] == ["ok", "duplicate"] and "duplicate of a.docx" in files[1]["reason"]
    later = c.post("/v1/documents", files=[("files", ("c.docx", data))], data={"collection": "hr"}).json()
    run_job(services, jobs, later["id"], "w", services.settings)
    assert c.get(f"/v1/jobs/{later['id']}").json()["files"][0]["status"] == "duplicate"
    docs = c.get("/v1/documents").json()
    assert len(docs) == 1 and docs[0]["aliases"] == ["uploads/b.docx", "uploads/c.docx"]
    doc_id = docs[0]["id"]
    r = c.delete(f"/v1/documents/{doc_id}", params={"alias": "uploads/c.docx"}).json()
    assert r["outcome"] == "alias" and r["deleted"] is None
    r = c.delete(f"/v1/documents/{doc_id}").json()
    assert r["outcome"] == "renamed" and r["kept_as"] == "uploads/b.docx" and r["chunks"] == 0
    assert c.get(f"/v1/documents/{doc_id}").json()["name"] == "b.docx"
    r = c.delete(f"/v1/documents/{doc_id}").json()
    assert r["outcome"] == "deleted" and r["deleted"] == doc_id and r["chunks"] > 0
    assert c.get("/v1/documents").json() == []


def test_duplicates_over_the_cli(env, monkeypatch, tmp_path):
    services, src = env
    shutil.copy(src / "policy.docx", src / "copy.docx")
    monkeypatch.setattr(commands, "services", lambda: services)
    monkeypatch.setattr(cli_state, "services", lambda: services)
    run = CliRunner().invoke
    out = run(commands.app, ["--data-dir", str(tmp_path / "data"), "ingest", "-p", "1", "-q", str(src)])
    assert out.exit_code == 0, out.output
    assert "files: 1 ok, 0 unchanged, 1 duplicate, 0 failed" in out.output
    assert "DUPLICATE" in out.output and "duplicate of" in out.output
    doc = services.kb.store.documents()[0]
    shown = run(commands.app, ["--data-dir", str(tmp_path / "data"), "documents", "show", doc.id])
    assert "also stored as: " in shown.output
    removed = run(commands.app, ["--data-dir", str(tmp_path / "data"), "documents", "remove", doc.id])
    assert removed.exit_code == 0 and f"document {doc.id} stays as" in removed.output
    assert services.kb.store.document(doc.id) is not None


def test_reindex_records_copies_as_aliases_skips_them_after_and_deletes_only_the_last_name(env):
    services, src = env
    shutil.copy(src / "policy.docx", src / "copy.docx")
    sources = [Source(path=src, collection="hr")]
    first = reindex(services, sources)
    assert first.as_dict()["counts"] == {"ok": 1, "skipped": 0, "failed": 0, "duplicate": 1}
    again = reindex(services, sources)
    assert again.as_dict()["counts"] == {"ok": 0, "skipped": 2, "failed": 0}  # the alias is known: skipped
    os.remove(src / "policy.docx")
    gone = reindex(services, sources)
    assert [f.status for f in gone.files if f.status == "deleted"] == ["deleted"]
    docs = services.kb.store.documents("hr")
    assert len(docs) == 1 and docs[0].name == "copy.docx" and docs[0].chunks > 0
    os.remove(src / "copy.docx")
    reindex(services, sources)
    assert services.kb.store.documents("hr") == []


def test_the_same_text_in_other_bytes_is_reported_as_a_near_duplicate_and_kept(env):
    import docx

    services, src = env
    resaved = docx.Document(str(src / "policy.docx"))
    resaved.core_properties.author = "someone else"  # other bytes, the same text
    resaved.save(str(src / "resaved.docx"))
    ingestor = Ingestor(services, processes=1)
    first = ingestor.ingest_file(src / "policy.docx", "hr")
    second = ingestor.ingest_file(src / "resaved.docx", "hr")
    assert second.status == "ok" and second.doc_id != first.doc_id
    assert second.warnings == [f"near duplicate of policy.docx ({first.doc_id}): the same text in other bytes; both kept"]
    assert len(services.kb.store.documents("hr")) == 2
