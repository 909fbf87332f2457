"""Question routing by document profiles: names with aliases and tickers, periods and adjacent years; a question
naming no document still retrieves; every routed hit says why; the settings turn each part off."""

from rag.core.types import Document, DocumentProfile
from rag.retrieval.knowledge_base import embed_text, table_labels, vector_text
from rag.retrieval.routing import Router
from tests.helpers.apps import make_app, put


def doc(doc_id: str, **profile) -> Document:
    return Document(
        id=doc_id,
        name=f"{doc_id}.pdf",
        path=doc_id,
        collection="c",
        sha256=doc_id,
        status="ok",
        profile=DocumentProfile(**profile),
    )


DOCS = [
    doc("bby17", organizations=["Best Buy Co., Inc."], aliases=["Best Buy", "BESTBUY"], period="FY2017", year=2017),
    doc("bby19", organizations=["Best Buy Co., Inc."], aliases=["Best Buy", "BESTBUY"], period="FY2019", year=2019),
    doc("mmm18", organizations=["3M Company"], aliases=["3M", "MMM"], period="FY2018", year=2018),
    doc("mmm22", organizations=["3M Company"], aliases=["3M", "MMM"], period="FY2022", year=2022),
    doc("jpm21", organizations=["JPMorgan Chase & Co."], aliases=["JPMorgan Chase"], period="2021 Q1", year=2021, quarter=1),
    doc("jnj22", organizations=["Johnson & Johnson"], aliases=["Johnson & Johnson", "J&J", "JnJ"], period="FY2022", year=2022),
    doc("hb", title="Employee handbook", organizations=["Contoso GmbH"], outline=["Travel expenses", "Parental leave"]),
]


def routed(question: str, profile_words: bool = False) -> list[str]:
    return [r.doc_id for r in Router(DOCS).route(question, profile_words=profile_words)]


def test_a_name_and_a_year_pick_one_document():
    assert routed("What is the FY2018 capital expenditure of 3M?") == ["mmm18"]
    assert routed("What were BestBuy's inventories at the end of fiscal 2019?") == ["bby19"]
    assert routed("MMM dividend in 2022") == ["mmm22"]  # a ticker, in capitals
    assert routed("Are JnJ's FY2022 financials that of a high growth company?") == ["jnj22"]  # a short form


def test_several_years_prefer_the_latest_report_and_no_year_keeps_every_match_newest_first():
    assert routed("Best Buy's average margin from FY2015 to FY2017") == ["bby17"]
    assert routed("Is 3M a capital-intensive business?") == ["mmm22", "mmm18"]
    assert routed("3M revenue in 2021") == ["mmm22"]  # the next year's report restates 2021


def test_quarters_and_reasons():
    (route,) = Router(DOCS).route("JPMorgan Chase net income in Q1 2021")
    assert route.doc_id == "jpm21" and "JPMorgan Chase" in route.reason and "2021 Q1" in route.reason


def test_profile_words_route_only_when_one_document_stands_out_and_nothing_named_routes_nowhere():
    assert routed("How is parental leave handled in the employee handbook?", profile_words=True) == ["hb"]
    assert routed("How is parental leave handled in the employee handbook?") == []  # off by default
    assert routed("What is the capital of France?") == []
    assert not Router([]).route("anything")


def test_chunks_carry_their_documents_label_in_what_is_indexed():
    assert embed_text("Cash flows", "Purchases of PP&E 1,577", "3M Company · 10-K · FY2018") == (
        "3M Company · 10-K · FY2018\nCash flows\nPurchases of PP&E 1,577"
    )
    assert embed_text("", "text") == "text"


SAME = ["The daily meal allowance is {} EUR.", "Hotels are booked through the travel desk."]


def _two_years(tmp_path, **settings):
    app, services = make_app(tmp_path, **settings)
    for year, amount in ((2019, 40), (2020, 55)):
        profile = DocumentProfile(
            organizations=["Contoso GmbH"], aliases=["Contoso"], kind="handbook", period=str(year), year=year
        )
        put(services, "c", f"handbook-{year}.pdf", [SAME[0].format(amount), SAME[1]], profile)
    return services


def test_the_knowledge_base_boosts_the_named_document_and_says_why(tmp_path):
    services = _two_years(tmp_path)
    hits, timings = services.kb.search("What is the daily meal allowance in Contoso's 2020 handbook?", 4)
    assert hits[0].doc == "handbook-2020.pdf" and "55" in hits[0].text
    assert "2020" in (hits[0].route or "") and hits[0].context == "Contoso GmbH · handbook · 2020"
    assert "route_ms" in timings
    anywhere, _ = services.kb.search("What is the daily meal allowance?", 4)  # names nothing: both documents
    assert {h.doc for h in anywhere} == {"handbook-2019.pdf", "handbook-2020.pdf"} and not any(h.route for h in anywhere)


def test_routing_off_and_restrict(tmp_path):
    off = _two_years(tmp_path / "off", retrieval={"route": "off"})
    hits, _ = off.kb.search("What is the daily meal allowance in Contoso's 2020 handbook?", 4)
    assert not any(h.route for h in hits) and len({h.doc for h in hits}) == 2
    only = _two_years(tmp_path / "only", retrieval={"route": "restrict"})
    hits, _ = only.kb.search("What is the daily meal allowance in Contoso's 2020 handbook?", 4)
    assert {h.doc for h in hits} == {"handbook-2020.pdf"}


def test_the_rarer_words_of_document_names_route_model_numbers_and_countries():
    docs = [
        doc(f"hb-{c}-{y}", title=f"Employee handbook {y}", organizations=["Contoso"], period=str(y), year=y)
        for c in ("norway", "france")
        for y in (2021, 2022)
    ] + [
        doc(f"fabrikam-hx-{m}-manual", title=f"Fabrikam HX-{m} operating manual", organizations=["Fabrikam Ltd"])
        for m in (100, 200)
    ]
    router = Router(docs)
    assert [r.doc_id for r in router.route("Contoso Norway 2022: notice period?")] == ["hb-norway-2022"]
    assert [r.doc_id for r in router.route("What is the maximum load of the HX-200?")] == ["fabrikam-hx-200-manual"]
    assert [r.doc_id for r in router.route("Max load of the HX200 winch")] == ["fabrikam-hx-200-manual"]
    # a word every document shares ("Contoso", "handbook") names none of them; function words never count
    assert {r.doc_id for r in router.route("What does the Contoso handbook say for 2021?")} == {
        "hb-norway-2021",
        "hb-france-2021",
    }


def test_the_embedder_sees_table_rows_as_their_worded_cells():
    text = (
        "Cash flows from investing activities\n"
        "(Millions) | 2018 | 2017 | 2016\n"
        "Purchases of property, plant and equipment (PP&E) | (1,577) | (1,373) | (1,420)\n"
        " | (160) | 156 | (33)\n"
        "Net income | $ 5,363 $ | 4,869 $ | 5,058"
    )
    assert table_labels(text) == (
        "Cash flows from investing activities\n"
        "(Millions) | 2018 | 2017 | 2016\n"  # a year heads a column: kept
        "Purchases of property, plant and equipment (PP&E)\n"
        "Net income"
    )
    assert table_labels("Revenue grew 5% to $1,234 million | see note 3.") == "Revenue grew 5% to $1,234 million | see note 3."
    assert vector_text("Cash flows", "Capex | 1,577", "3M") == "3M\nCash flows\nCapex"
    assert vector_text("Cash flows", "Capex | 1,577", "3M", table_figures=True) == embed_text("Cash flows", "Capex | 1,577", "3M")
