"""Display formulas: math-looking lines set apart (centred or numbered) become formula blocks."""

from ingest.page import Block
from ingest.parse.formula import looks_like_math, mark_formulas
from ingest.parse.html import block_html


def para(text: str, box: tuple, size: float = 10) -> Block:
    return Block("paragraph", box, text, size=size)


def test_math_lines_are_told_from_prose():
    assert looks_like_math("E = p \u00d7 g \u00d7 V \u00d7 H / (3.6 \u00d7 10^6 \u00d7 n)")
    assert looks_like_math("H = Hs + k \u00d7 Q\u00b2")
    assert looks_like_math("\u03a3 x \u2264 1")
    assert not looks_like_math("The head is the static lift plus the friction loss in the main.")
    assert not looks_like_math("Total due: 4,310 EUR")  # no relation or operator sign
    assert not looks_like_math("Revenue = turnover minus returns and discounts")  # words, not symbols
    assert not looks_like_math("2023 - 2024")  # a range on a cover page
    assert not looks_like_math("- 5 -")  # a page number
    assert looks_like_math("a + b \u00d7 c")
    assert looks_like_math("E = mc2")  # OCR often reads a superscript as a digit


def test_centred_formula_with_its_number_becomes_one_formula_block():
    blocks = [
        para("The energy in kilowatt hours is given by the usual relation for a pump lifting water", (50, 100, 550, 124)),
        para("E = g \u00d7 V \u00d7 H", (250, 140, 350, 152)),
        para("(1)", (530, 140, 550, 152)),
        para("where g is the acceleration due to gravity and the rest are as before in the text", (50, 165, 550, 189)),
    ]
    out = mark_formulas(blocks)
    assert [b.kind for b in out] == ["paragraph", "formula", "paragraph"]
    formula = out[1]
    assert formula.text == "E = g \u00d7 V \u00d7 H (1)" and formula.marker == "1"
    assert formula.bbox == (250, 140, 550, 152)
    assert block_html(formula) == (
        '<p class="formula" data-bbox="250,140,550,152" data-number="1">E = g \u00d7 V \u00d7 H (1)</p>'
    )


def test_unnumbered_formula_needs_to_be_centred():
    centred = para("e = E / V = 0.21", (250, 140, 350, 152))
    flush_left = para("e = E / V = 0.21", (50, 200, 150, 212))
    body = para("a long line of body text that spans the whole width of the column here", (50, 100, 550, 112))
    out = mark_formulas([body, centred, flush_left])
    assert [b.kind for b in out] == ["paragraph", "formula", "paragraph"]


def test_a_numbered_list_item_or_prose_beside_a_number_is_not_a_formula():
    prose = para("See the results for", (50, 140, 200, 152))
    number = para("(2)", (530, 140, 550, 152))
    body = para("a long line of body text that spans the whole width of the column here", (50, 100, 550, 112))
    out = mark_formulas([body, prose, number])
    assert [b.kind for b in out] == ["paragraph", "paragraph", "paragraph"]


def test_layout_model_equation_region_makes_a_formula_on_scans():
    body = para("a long line of body text that spans the whole width of the column here", (50, 100, 550, 112))
    garbled = para("x=a+b", (240, 140, 330, 152))  # OCR may read a formula as anything
    number = para("(3)", (530, 140, 550, 152))
    out = mark_formulas([body, garbled, number], regions=[(230, 135, 555, 156)])
    assert [b.kind for b in out] == ["paragraph", "formula"]
    assert out[1].text == "x=a+b (3)" and out[1].marker == "3" and out[1].bbox == (230, 135, 555, 156)
