from ingest.page import Block, Word
from ingest.parse.layout import build_blocks, group_lines, join_lines, reading_order


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
    blocks = [
        Block("paragraph", (50, 100, 280, 200), "A"),
        Block("paragraph", (330, 100, 560, 200), "B"),
        Block("paragraph", (50, 220, 560, 260), "WIDE"),
        Block("paragraph", (50, 280, 280, 380), "C"),
        Block("paragraph", (330, 280, 560, 380), "D"),
    ]
    assert [b.text for b in reading_order(blocks)] == ["A", "B", "WIDE", "C", "D"]


def test_bullets_and_numbers_open_list_items():
    words = words_line("\u2022 first point here", 50, 100, step=40) + words_line("continued text", 62, 112)
    words += words_line("2. second point", 50, 124)
    blocks = build_blocks(words)
    assert [(b.kind, b.text, b.ordered) for b in blocks] == [
        ("list_item", "first point here continued text", False),
        ("list_item", "second point", True),
    ]
