from ingest.layout import build_blocks, classify, group_lines, join_lines, reading_order
from ingest.model import Block, Word


def words_line(text: str, x: float, top: float, size: float = 10, step: float = 40) -> list[Word]:
    return [Word(t, x + i * step, top, x + i * step + step - 8, top + size, size) for i, t in enumerate(text.split())]


def test_gutter_splits_a_line_into_two_column_segments():
    line = words_line("left side", 50, 100) + words_line("right side", 330, 100)
    segments = group_lines(line)
    assert [" ".join(w.text for w in s) for s in segments] == ["left side", "right side"]


def test_hyphenated_line_end_is_repaired_and_lines_joined():
    assert join_lines(["the mainten-", "ance log is", "read daily"]) == "the maintenance log is read daily"
    assert join_lines(["North-", "West wing"]) == "North- West wing"


def test_two_columns_under_a_full_width_title_read_left_column_first():
    words = words_line("Big Title Over Both Columns", 50, 40, size=20, step=100)
    for i, top in enumerate(range(100, 160, 12)):
        words += words_line(f"L{i} left text", 50, top)
        words += words_line(f"R{i} right text", 330, top)
    blocks = reading_order(build_blocks(words))
    texts = [b.text for b in blocks]
    assert texts[0].startswith("Big Title")
    assert texts[1].startswith("L0") and "L4" in texts[1] and "R" not in texts[1]
    assert texts[2].startswith("R0") and "R4" in texts[2]


def test_full_width_block_between_column_bands_keeps_its_place():
    blocks = [Block("paragraph", (50, 100, 280, 200), "A"), Block("paragraph", (330, 100, 560, 200), "B"),
              Block("paragraph", (50, 220, 560, 260), "WIDE"),
              Block("paragraph", (50, 280, 280, 380), "C"), Block("paragraph", (330, 280, 560, 380), "D")]
    assert [b.text for b in reading_order(blocks)] == ["A", "B", "WIDE", "C", "D"]


def test_classify_headers_footers_title_and_headings():
    blocks = [Block("paragraph", (50, 10, 200, 20), "ACME Corp confidential", size=8),
              Block("paragraph", (50, 60, 400, 90), "Annual Report", size=24),
              Block("paragraph", (50, 100, 400, 114), "Results by region", size=14),
              Block("paragraph", (50, 120, 500, 300), "Body text " * 30, size=10),
              Block("paragraph", (290, 770, 310, 780), "3", size=9)]
    classify(blocks, page_height=792, body_size=10, first_page=True)
    assert [b.kind for b in blocks] == ["header", "title", "heading", "paragraph", "footer"]
    assert blocks[1].level == 1 and blocks[2].level == 2
