"""Re-indexing source folders with a fake embedder on real small PDFs: exactly the added, changed and deleted
files change; a query during the re-index is answered from the old version, the next from the new; rollback."""

import json
import os
import time

import pytest

from ingest.jobs.reindex import reindex
from rag.core.errors import BadInput, NotFound
from rag.core.settings import Source
from rag.core.types import Filters
from tests.helpers import docgen
from tests.helpers.apps import make_app


def pdf(path, n: int, word: str = "alpha"):
    docgen.simple_pdf(path, [(f"Part {n}", [f"Document {n} says the password is {word}{n}."])], title=f"Doc {n}")
    return path


@pytest.fixture()
def setup(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for n in range(4):
        pdf(src / f"d{n}.pdf", n)
    _, services = make_app(tmp_path / "data")
    return services, src, [Source(path=src, collection="hr")]


def vids(services, name):
    doc = next(d for d in services.kb.store.documents() if d.name == name)
    return sorted(services.kb.store.vids_matching(Filters(docs=[doc.id])))


def texts(services, question):
    return " ".join(h.text for h in services.search(question, 10).hits)


def test_reindex_changes_exactly_the_added_changed_and_deleted_files(setup):
    services, src, sources = setup
    first = reindex(services, sources)
    assert first.as_dict()["counts"] == {"ok": 4, "skipped": 0, "failed": 0}
    kept = vids(services, "d0.pdf")
    v1 = services.kb.versions.manifest()["version"]
    time.sleep(0.01)
    pdf(src / "d4.pdf", 4)  # added
    pdf(src / "d1.pdf", 1, word="omega")  # changed
    os.remove(src / "d2.pdf")  # deleted
    seen_during = []
    report = reindex(services, sources, before_write=lambda: seen_during.append(texts(services, "password omega1 alpha1")))
    by_name = {os.path.basename(f.path): f.status for f in report.files}
    assert by_name == {"d0.pdf": "skipped", "d1.pdf": "ok", "d2.pdf": "deleted", "d3.pdf": "skipped", "d4.pdf": "ok"}
    assert report.as_dict()["counts"] == {"ok": 2, "skipped": 2, "failed": 0, "deleted": 1}
    # during the re-index the old version answered; right after, the new one
    assert "alpha1" in seen_during[0] and "omega1" not in seen_during[0]
    after = texts(services, "password omega1 alpha1")
    assert "omega1" in after and "alpha1" not in after and "alpha2" not in texts(services, "password alpha2")
    assert vids(services, "d0.pdf") == kept  # untouched documents keep their vectors
    assert sorted(d.name for d in services.kb.store.documents()) == ["d0.pdf", "d1.pdf", "d3.pdf", "d4.pdf"]
    assert services.kb.index().size == services.kb.store.count_chunks()
    assert services.kb.versions.manifest()["version"] != v1
    # nothing changed: everything skipped by size and mtime
    assert reindex(services, sources).as_dict()["counts"] == {"ok": 0, "skipped": 4, "failed": 0}
    assert reindex(services, sources, full=True).as_dict()["counts"] == {"ok": 4, "skipped": 0, "failed": 0}


def test_a_missing_source_folder_removes_nothing(setup):
    services, src, sources = setup
    reindex(services, sources)
    report = reindex(services, [Source(path=src.parent / "unmounted", collection="hr")] + sources)
    assert report.failed[0].reason.startswith("source folder missing") and len(services.kb.store.documents()) == 4


def test_versions_and_rollback(setup):
    services, src, sources = setup
    kb = services.kb
    with pytest.raises(NotFound):
        kb.rollback()
    reindex(services, sources)
    os.remove(src / "d3.pdf")
    reindex(services, sources)
    versions = kb.versions.versions()
    assert len(versions) == 2 and [v["live"] for v in versions] == [False, True]
    assert [v["count"] for v in versions][0] > versions[1]["count"]
    target = kb.rollback()
    assert target["version"] == versions[0]["version"] and kb.versions.manifest()["version"] == target["version"]
    assert kb.index().size == versions[0]["count"]
    with pytest.raises(NotFound):
        kb.rollback("nope")
    manifest = kb.versions.root / versions[1]["version"] / "manifest.json"
    data = json.loads(manifest.read_text())
    data["embedder"]["name"] = "another-model"
    manifest.write_text(json.dumps(data))
    with pytest.raises(BadInput):
        kb.rollback(versions[1]["version"])


def test_cron_expressions_for_the_scheduled_reindex():
    import datetime

    from ingest.jobs.queue import cron

    nightly = cron("15 2 * * *")
    assert nightly(datetime.datetime(2026, 1, 5, 2, 15)) and not nightly(datetime.datetime(2026, 1, 5, 3, 15))
    with pytest.raises(BadInput):
        cron("every night")
