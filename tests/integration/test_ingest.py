"""Ingestion on the real embedder, FAISS and SQLite: reports, bad files, replacement, crash repair."""

import shutil

import pytest

from ingest.pipeline import Ingestor
from rag.service.services import Services
from tests.helpers import docgen
from tests.helpers.models import make_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def embedder_services(tmp_path_factory):
    """Services whose embedder is loaded once for the module; each test gets its own data dir."""
    base = Services(make_settings(tmp_path_factory.mktemp("warm")))
    base.embedder.warm_up()
    return base


@pytest.fixture
def services(tmp_path, embedder_services):
    s = Services(make_settings(tmp_path / "data"))
    s.__dict__["embedder"] = embedder_services.embedder  # share the loaded model, not the data
    return s


def test_folder_with_good_and_bad_files_reports_each(services, docs, tmp_path):
    folder = tmp_path / "inbox"
    shutil.copytree(docs["facts"].parent, folder)
    report = Ingestor(services, processes=1).ingest_paths([folder, tmp_path / "missing.pdf"])
    by_name = {f.path.rsplit("/", 1)[-1]: f for f in report.files}
    assert by_name["missing.pdf"].reason.startswith("no such file or folder")
    assert by_name["encrypted.pdf"].status == "failed" and "encrypted PDF" in by_name["encrypted.pdf"].reason
    assert by_name["corrupt.pdf"].status == "failed" and "corrupt" in by_name["corrupt.pdf"].reason
    assert by_name["empty.pdf"].status == "failed" and "empty file" in by_name["empty.pdf"].reason
    assert by_name["clip.gif"].status == "failed" and "unsupported file type" in by_name["clip.gif"].reason
    for good in ("facts.pdf", "two-column.pdf", "table.pdf", "merged.pdf", "scan.pdf", "invoice.png", "picture.pdf"):
        assert by_name[good].status == "ok", by_name[good]
        assert by_name[good].chunks >= 1 and by_name[good].pages >= 1
    assert not report.ok and len(report.failed) == 5
    hits, _ = services.kb.search("When does the cafeteria serve lunch?", 3)
    assert hits[0].doc == "facts.pdf" and hits[0].page == 2
    assert (services.settings.data_dir / "html").is_dir()
    assert services.kb.index().size == services.kb.store.count_chunks()


def test_parse_processes_give_what_one_process_gives_in_the_same_order(services, embedder_services, docs, tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    for name in ("facts", "two_column", "table", "scan", "encrypted", "corrupt", "empty", "unsupported"):
        shutil.copy(docs[name], folder)  # good and bad files, one read by OCR
    serial = Services(make_settings(tmp_path / "serial"))
    serial.__dict__["embedder"] = embedder_services.embedder
    one = Ingestor(serial, processes=1).ingest_paths([folder])
    seen = []
    many = Ingestor(services, processes=2).ingest_paths(
        [folder, folder / "facts.pdf"],  # a file named twice: once
        progress=lambda i, n, r: seen.append((i, n, r.path)),
    )

    def lines(report):
        return [(f.path, f.status, f.reason, f.pages, f.chunks, f.doc_id, f.warnings) for f in report.files]

    assert lines(many) == lines(one) and len(many.failed) == 4
    assert seen == [(i, len(many.files), f.path) for i, f in enumerate(many.files, 1)]  # reported in folder order
    for s in (services, serial):
        assert s.kb.index().size == s.kb.store.count_chunks()
    assert sorted(services.kb.store.all_texts()) == sorted(serial.kb.store.all_texts())
    html = {p.name: p.read_text() for p in (services.settings.data_dir / "html").iterdir()}
    assert html == {p.name: p.read_text() for p in (serial.settings.data_dir / "html").iterdir()}
    hits, _ = services.kb.search("When is the fire drill?", 1)  # the scan, read by OCR in a parse process
    assert hits[0].doc == "scan.pdf"

    docgen.simple_pdf(folder / "facts.pdf", [("Parking", ["Parking permits cost 40 EUR per month."])])
    again = Ingestor(services, processes=2).ingest_paths([folder], tags={"team": "ops"})
    status = {f.path.rsplit("/", 1)[-1]: (f.status, f.reason) for f in again.files}
    assert status["facts.pdf"] == ("ok", "") and status["scan.pdf"] == ("skipped", "unchanged; tags updated")
    assert [d.tags for d in services.kb.store.documents()] == [{"team": "ops"}] * 4
    assert services.kb.index().size == services.kb.store.count_chunks()
    hits, _ = services.kb.search("How much does a parking permit cost?", 1)
    assert hits[0].doc == "facts.pdf" and "40 EUR" in hits[0].text


def test_unchanged_file_is_skipped_and_changed_file_replaces_its_chunks(services, tmp_path):
    path = docgen.simple_pdf(tmp_path / "policy.pdf", [("Parking", ["Parking permits cost 40 EUR per month."])])
    ingestor = Ingestor(services)
    assert ingestor.ingest_file(path).status == "ok"
    assert ingestor.ingest_file(path).status == "skipped"
    size = services.kb.index().size
    docgen.simple_pdf(path, [("Parking", ["Parking permits are now free for cyclists who also drive."])])
    assert ingestor.ingest_file(path).status == "ok"
    assert len(services.kb.store.documents()) == 1
    assert services.kb.index().size == services.kb.store.count_chunks() == size
    hits, _ = services.kb.search("How much do parking permits cost?", 5)
    assert all("40 EUR" not in h.text for h in hits)


def test_file_turned_corrupt_keeps_the_stored_version(services, docs, tmp_path):
    path = tmp_path / "facts.pdf"
    shutil.copy(docs["facts"], path)
    ingestor = Ingestor(services)
    assert ingestor.ingest_file(path).status == "ok"
    docgen.corrupt_pdf(path, docs["facts"])
    result = ingestor.ingest_file(path)
    assert result.status == "failed" and "corrupt" in result.reason
    hits, _ = services.kb.search("Who inspected the harbour crane?", 1)
    assert hits and "Ingrid Solheim" in hits[0].text


def test_crash_between_store_commit_and_index_publish_is_repaired(services, docs):
    Ingestor(services).ingest_file(docs["facts"])
    n = services.kb.index().size
    (services.settings.data_dir / "current").unlink()  # as if the process died before publishing
    services.kb._index = None
    assert services.kb.index().size == 0
    assert services.kb.repair()["vectors"] == n
    hits, _ = services.kb.search("Who inspected the harbour crane?", 1)
    assert "Ingrid Solheim" in hits[0].text


def test_collections_filter_before_the_top_k_cut(services, docs):
    ingestor = Ingestor(services)
    ingestor.ingest_file(docs["facts"], collection="ops")
    ingestor.ingest_file(docs["image"], collection="finance")
    hits, _ = services.kb.search("Who inspected the harbour crane?", 5, collection="finance")
    assert hits and {h.doc for h in hits} == {"invoice.png"}


def test_hybrid_search_finds_codes_dense_alone_misses_and_filters_apply_before_the_cut(services, tmp_path):
    pages = [(f"Part {i}", [f"Spare part XK-{4400 + i} fits the pump model P{i}. Store it dry."]) for i in range(1, 9)]
    path = docgen.simple_pdf(tmp_path / "parts.pdf", pages)
    Ingestor(services).ingest_paths([path])
    services.settings.retrieval.mode = "lexical"
    lexical, _ = services.kb.search("XK-4405", 3)
    assert lexical[0].page == 5 and lexical[0].lexical_score > 0 and lexical[0].dense_score is None
    services.settings.retrieval.mode = "hybrid"
    hybrid, timings = services.kb.search("Which pump does spare part XK-4405 fit?", 3)
    assert hybrid[0].page == 5 and {"embed_ms", "dense_ms", "lexical_ms", "fuse_ms"} <= set(timings)
    from rag.core.types import Filters

    only, _ = services.kb.search("spare part", 5, filters=Filters(page_from=7, page_to=8))
    assert {h.page for h in only} == {7, 8}
    none, _ = services.kb.search("spare part", 5, filters=Filters(docs=["other.pdf"]))
    assert none == []


def test_deleting_a_document_removes_it_from_both_indexes(services, docs):
    Ingestor(services).ingest_paths([docs["facts"], docs["table"]])
    doc = next(d for d in services.kb.store.documents() if d.name == "facts.pdf")
    services.kb.delete_document(doc.id)
    live = services.kb.live()
    assert live.vectors.size == live.lexical.size == services.kb.store.count_chunks()
    services.settings.retrieval.mode = "lexical"
    hits, _ = services.kb.search("harbour crane Ingrid Solheim", 5)
    services.settings.retrieval.mode = "hybrid"
    assert all(h.doc != "facts.pdf" for h in hits)
