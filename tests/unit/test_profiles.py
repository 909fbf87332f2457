"""Document profiles from generated layout HTML whose title, organisation and period are known: a cover page,
running headers, PDF metadata only, and nothing at all; tags that override them."""

import pytest

from rag.core.errors import BadInput
from rag.profiles.extract import build_profile, language
from rag.profiles.names import abbreviations, file_name_words, mentions, organisations, short_name
from rag.profiles.overrides import apply_tags
from rag.profiles.periods import Period, question_periods, stated_period


def layout(pages: list[list[str]]) -> str:
    """Layout HTML (docs/layout-html.md) of pages given as lines: '# ' a title, '## ' a heading, '^ ' a running
    header, anything else a paragraph."""
    out = [f'<article data-doc="x" data-pages="{len(pages)}">']
    for n, lines in enumerate(pages, 1):
        out.append(f'<section data-page="{n}" data-width="612" data-height="792" data-source="text">')
        for line in lines:
            if line.startswith("# "):
                out.append(f'<h1 data-bbox="0,0,1,1">{line[2:]}</h1>')
            elif line.startswith("## "):
                out.append(f'<h2 data-bbox="0,0,1,1">{line[3:]}</h2>')
            elif line.startswith("^ "):
                out.append(f'<header data-bbox="0,0,1,1"><p>{line[2:]}</p></header>')
            else:
                out.append(f'<p data-bbox="0,0,1,1">{line}</p>')
        out.append("</section>")
    return "\n".join(out + ["</article>"])


BODY = "The committee reviewed the results of the year and the outlook for the next one with the staff."


def test_a_cover_page_gives_organisation_period_kind_and_ticker():
    cover = [
        "# UNITED STATES SECURITIES AND EXCHANGE COMMISSION",
        "## FORM 10-K",
        "For the fiscal year ended June 30, 2021",
        "NORTHWIND TRADERS, INC.",
        "(Exact name of registrant as specified in its charter)",
        "Title of each class Trading Symbol(s) Common Stock NWT",
    ]
    pages = [cover] + [[f"Northwind Traders, Inc. sold more tea in 2021 than in 2020. {BODY}"] for _ in range(4)]
    p = build_profile("annual-filing.pdf", layout(pages))
    assert p.organizations[0] == "Northwind Traders, Inc." and p.sources["organizations"] == "cover page"
    assert "Northwind Traders" in p.aliases and "NWT" in p.aliases
    assert (p.period, p.year, p.kind, p.language, p.pages) == ("FY2021", 2021, "10-K", "en", 5)
    assert p.context == "Northwind Traders, Inc. · 10-K · FY2021"


def test_running_headers_name_the_organisation_and_the_period():
    pages = [["# Travel and expenses", BODY]] + [
        [f"^ Contoso GmbH · Employee handbook 2019 · page {n}", BODY] for n in range(2, 7)
    ]
    p = build_profile("hb.pdf", layout(pages))
    assert p.organizations == ["Contoso GmbH"] and p.sources["period"] == "running header"
    assert (p.year, p.kind) == (2019, "handbook")
    assert p.title == "Travel and expenses" and p.outline == ["Travel and expenses"]


def test_metadata_and_the_file_name_when_the_pages_say_nothing():
    meta = {"title": "Data retention policy", "author": "Globex Corporation"}
    p = build_profile("globex_retention_2022.pdf", layout([[BODY], [BODY]]), meta)
    assert p.title == "Data retention policy" and p.sources["title"] == "metadata"
    assert p.organizations == ["Globex Corporation"] and p.kind == "policy"
    assert (p.period, p.sources["period"]) == ("2022", "file name")
    assert p.metadata == meta


def test_a_document_with_nothing_to_go_by_gets_an_honest_empty_profile():
    p = build_profile("notes.txt", layout([[BODY]]))
    assert p.period == "" and p.year is None and p.kind == ""
    assert p.organizations == ["notes"] and p.sources["organizations"] == "file name"  # the file name is all there is
    assert p.title == "notes" and p.context == "notes"


def test_language_from_common_words():
    assert language("Die Mitarbeiter und die Leitung haben den Bericht für das Jahr nicht mit dem Rat besprochen " * 2) == "de"
    assert language("too short") == ""


def test_periods_in_questions_and_statements():
    assert question_periods("What is the FY2018 capex of 3M?") == [Period(2018, fiscal=True)]
    assert [p.label for p in question_periods("revenue in Q1 2021 against the first quarter of 2020, and fiscal 22")] == [
        "2021 Q1",
        "2020 Q1",
        "FY2022",
    ]
    assert stated_period("For the quarterly period ended September 30, 2020") == Period(2020, quarter=3)
    assert question_periods("What is the capital of France?") == []
    assert question_periods("a total of $2,019 and 1,2018 units") == []  # amounts are not years


def test_names_and_aliases_match_as_people_write_them():
    assert organisations(["File No. 1-3285 3M COMPANY (Exact name)", "Best Buy Co., Inc. and the Smaller Reporting Company"])[
        :2
    ] == ["3M Company", "Best Buy Co., Inc."]
    assert short_name("Best Buy Co., Inc.") == "Best Buy" and file_name_words("JOHNSON_JOHNSON_2022_10K.pdf") == "Johnson Johnson"
    assert mentions("inventories of Best Buy in FY2019", "BESTBUY") and mentions("Johnson & Johnson's revenue", "Johnson Johnson")
    assert not mentions("the blockchain team", "Block") and not mentions("the company", "Company")


def test_short_forms_of_two_word_names():
    assert abbreviations("Johnson & Johnson") == ["J&J", "JnJ"] and "P&G" in abbreviations("Procter and Gamble")
    assert "AmEx" in abbreviations("American Express") and "FedEx" in abbreviations("Federal Express")
    assert abbreviations("Best Buy") == abbreviations("CVS Health") == abbreviations("3M") == []  # words too short
    assert all(len(a) < 6 for a in abbreviations("Activision Blizzard"))  # never matched with spaces ignored
    assert mentions("Are JnJ's FY2022 financials", "JnJ") and mentions("Does AMEX have", "AmEx")
    assert not mentions("the camera came explained", "AmExp")
    cover = [
        "# FORM 10-K",
        "For the fiscal year ended December 31, 2022",
        "AMERICAN EXPRESS COMPANY",
        "(Exact name of registrant)",
    ]
    p = build_profile("axp.pdf", layout([cover] + [[BODY]] * 3))
    assert p.organizations[0] == "American Express Company" and "AmEx" in p.aliases


def test_tags_override_the_profile_and_a_bad_period_is_refused():
    p = build_profile("notes.txt", layout([[BODY]]))
    tagged = apply_tags(p, {"org": "Initech LLC", "period": "FY2020", "kind": "minutes", "department": "finance"})
    assert tagged.organizations[0] == "Initech LLC" and "Initech" in tagged.aliases
    assert (tagged.period, tagged.year, tagged.kind, tagged.sources["period"]) == ("FY2020", 2020, "minutes", "tag")
    with pytest.raises(BadInput, match="not a period"):
        apply_tags(p, {"period": "last spring"})
