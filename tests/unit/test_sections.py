"""Sections a question names ("according to the balance sheet"): which heading segments count as named, and the
knowledge base moving the candidates under them up (and saying so), or not when the setting is off."""

from rag.retrieval.sections import SectionNames, segments
from tests.helpers.apps import make_app, put_pages

HEADINGS = [
    ("mmm", "3M Company and Subsidiaries > Consolidated Balance Sheets > (Millions)"),
    ("mmm", "3M Company and Subsidiaries Consolidated Statement of Cash Flows > Years ended December 31"),
    ("mmm", "NOTE 7. Supplemental Balance Sheet Information"),
    ("mmm", "Liquidity and Capital Resources > Cash Flows from Operating Activities"),
    ("mmm", "Consolidated Statement of Income"),
    ("mmm", "Risk Factors"),
    ("mmm", "Properties"),
]
LABELS = {"mmm": "3M Company · 10-K · FY2018"}


def named(question: str, heading: str) -> str | None:
    return SectionNames(HEADINGS, LABELS).matcher(question).named("mmm", heading)


def test_a_heading_breadcrumb_is_cut_into_segments():
    assert segments("A > B / C") == ["A", "B", "C"]
    assert segments("") == []


def test_a_run_of_question_words_covering_most_of_a_segment_names_it():
    q = "What is 3M's FY2018 capex? Answer from the details shown in the cash flow statement."
    assert named(q, HEADINGS[1][1]).startswith("3M Company and Subsidiaries Consolidated Statement of Cash Flows")
    assert named(q, HEADINGS[0][1]) is None
    q = "Using the balance sheet, what is the year end FY2018 net PPNE for 3M?"
    assert named(q, HEADINGS[0][1]) == "Consolidated Balance Sheets"
    # the supplemental note's other words (note, supplemental, information) weigh more than "balance sheet"
    assert named(q, HEADINGS[2][1]) is None
    assert named("What does the income statement say about revenue?", HEADINGS[4][1]) == "Consolidated Statement of Income"


def test_company_names_calendar_words_and_single_words_name_no_section():
    # "3M Company" is the document's own label; "year end" only dates a column; one word is not a section's name
    assert named("3M Company and Subsidiaries: what was the year end cash?", HEADINGS[1][1]) is None
    assert named("What risks does 3M face?", HEADINGS[5][1]) is None
    assert named("Which properties does 3M own?", HEADINGS[6][1]) is None


CHUNKS = [
    ("Liquidity and Capital Resources", "What were the total assets? According to management, the total assets grew."),
    ("Consolidated Balance Sheets", "Total assets | 1,234 | 1,100"),
]
QUESTION = "According to the balance sheet, what were the total assets?"


def test_the_knowledge_base_moves_up_the_chunks_under_a_named_section_and_says_so(tmp_path):
    _, services = make_app(tmp_path / "on", retrieval={"max_per_page": 0})
    put_pages(services, "contoso-2022.pdf", CHUNKS)
    hits, _ = services.kb.search(QUESTION, 2)
    assert hits[0].page == 2 and hits[0].section == "Consolidated Balance Sheets"
    assert hits[1].section is None
    _, off = make_app(tmp_path / "off", retrieval={"route_sections": False, "max_per_page": 0})
    put_pages(off, "contoso-2022.pdf", CHUNKS)
    hits, _ = off.kb.search(QUESTION, 2)
    assert hits[0].page == 1 and not any(h.section for h in hits)


def test_a_heading_over_every_chunk_of_its_document_names_the_document_not_a_section():
    title = "Open Access Increases Citation Rate"
    names = SectionNames([("paper", ""), ("paper", title), ("paper", f"{title} > Methods"), *HEADINGS], LABELS)
    assert names.matcher("Does open access increase the citation rate?").named("paper", title) is None
    # the same words heading only some of a document's chunks are a section
    names = SectionNames([("paper", title), ("paper", "Methods"), *HEADINGS], LABELS)
    assert names.matcher("Does open access increase the citation rate?").named("paper", title) == title
