"""Every format read without LibreOffice ingested end to end (fake embedder) with the network blocked, an e-mail's
attachment ingested as a document of its own linked to the message, and the report's notes on macros."""

from ingest.pipeline import Ingestor
from rag.core.types import Filters
from tests.helpers import office_docs
from tests.helpers.apps import make_app


def test_every_format_ingests_with_the_network_blocked(tmp_path, no_network):
    files = office_docs.modern_set(tmp_path / "src")
    office_docs.macro_enabled(files["docx"], tmp_path / "src" / "macro.docm")
    _, services = make_app(tmp_path / "data")
    report = Ingestor(services, processes=1).ingest_paths([tmp_path / "src"], "office")
    by_name = {f.path.rsplit("/", 1)[-1]: f for f in report.files}
    assert not report.failed, [(f.path, f.reason) for f in report.failed]
    kinds = {"budget.eml", "review.pptx", "budget.xlsx", "guide.html", "notes.md", "readme.txt", "sites.csv", "sites.tsv"}
    assert kinds <= {n for n, f in by_name.items() if f.status == "ok"}
    # the message (read first) brought policy.docx in as its attachment: the file itself is that document's copy
    assert by_name["policy.docx"].status == "duplicate" and "duplicate of policy.docx" in by_name["policy.docx"].reason
    macro = by_name["macro.docm"].warnings
    assert macro[0] == "macro-enabled file: its content was read, its macros were not run (removed)"
    assert macro[1].startswith("near duplicate of policy.docx")  # the same text as the DOCX it was made from
    assert by_name["guide.html"].warnings == ["2 script(s) and 2 event handler(s) or javascript: link(s) removed, never run"]
    # the slide's notes and a sheet's cell are found by search, with the slide and the sheet as the page
    hit = services.search("Mention the new region", 3).hits[0]
    assert hit.doc == "review.pptx" and hit.page == 2
    hit = services.search("Figures as of June headcount", 3, filters=Filters(docs=["budget.xlsx"])).hits[0]
    assert hit.page == 1 and "Figures as of June" in hit.text


def test_an_email_attachment_is_a_document_of_its_own_linked_to_the_message(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    attachment = office_docs.make_docx(tmp_path / "policy.docx")
    office_docs.make_eml(src / "budget.eml", attachment=attachment)
    _, services = make_app(tmp_path / "data")
    result = Ingestor(services, processes=1).ingest_file(src / "budget.eml", "mail")
    assert result.status == "ok"
    docs = {d.name: d for d in services.kb.store.documents("mail")}
    assert set(docs) == {"budget.eml", "policy.docx"}
    assert docs["policy.docx"].tags == {"attached_to": docs["budget.eml"].id}
    assert docs["policy.docx"].path == f"{docs['budget.eml'].path}#attachments/policy.docx"
    assert result.warnings == [f"attachment policy.docx: ok {docs['policy.docx'].id}"]
    assert docs["budget.eml"].profile.metadata["from"] == "Ann Berg <ann@example.com>"
    # the same message again: unchanged, its attachment too
    assert Ingestor(services, processes=1).ingest_file(src / "budget.eml", "mail").status == "skipped"
