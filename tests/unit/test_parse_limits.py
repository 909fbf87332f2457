"""What one file's parse may cost (issue 19, items 1, 3, 5): blank pages never reach OCR, a page limit and a time
budget per file, a stop between pages (in this process and in page-range processes), page renders capped in
pixels, image bombs refused from their header."""

import pytest

from ingest.parse.limits import ParseLimits
from ingest.parse.pdf import parse_image, parse_pdf
from ingest.parse.scan import ScanResult
from rag.core.errors import Cancelled, ParseLimit
from tests.helpers import docgen
from tests.helpers.hostile_files import blank_pdf, drawn_pdf, png_header_only


class CountingOcr:
    """A ScanReader stand-in: records the size of every image it is asked to read, finds no words."""

    use_layout = False

    def __init__(self):
        self.sizes: list[tuple[int, int]] = []

    def read(self, image) -> ScanResult:
        self.sizes.append(image.size)
        return ScanResult(image=image, words=[])


def test_blank_pages_are_not_sent_to_ocr(tmp_path):
    ocr = CountingOcr()
    parsed = parse_pdf(blank_pdf(tmp_path / "blank.pdf", 40), ocr)
    assert len(parsed.pages) == 40 and not parsed.errors
    assert ocr.sizes == []  # the old parser rendered each at 200 dpi and read it: 40 OCR runs


def test_a_page_that_draws_only_a_uniform_colour_is_blank_and_one_with_a_mark_is_not(tmp_path):
    ocr = CountingOcr()
    parse_pdf(drawn_pdf(tmp_path / "white.pdf", (612, 792), (1, 1, 1)), ocr)
    assert ocr.sizes == []
    parse_pdf(drawn_pdf(tmp_path / "marked.pdf", (612, 792), (1, 1, 1), text="X"), ocr)
    assert len(ocr.sizes) == 1  # a scan-like page with something on it is still read


def test_a_scan_is_still_read(tmp_path):
    ocr = CountingOcr()
    parse_pdf(docgen.scanned_pdf(tmp_path / "scan.pdf", [["Annual leave is 30 days."]]), ocr)
    assert len(ocr.sizes) == 1


def test_more_pages_than_allowed_is_refused_before_any_page_is_read(tmp_path):
    ocr = CountingOcr()
    with pytest.raises(ParseLimit) as err:
        parse_pdf(blank_pdf(tmp_path / "long.pdf", 5), ocr, limits=ParseLimits(max_pages=3))
    assert err.value.status == 422
    assert err.value.message == "long.pdf has 5 pages, more than the 3 allowed (RAG_PARSE__MAX_PAGES)"


def test_the_time_budget_stops_the_parse_between_pages(tmp_path, monkeypatch):
    clock = iter(range(0, 10**6, 100))  # every look at the clock: 100 s later
    monkeypatch.setattr("ingest.parse.limits.time.time", lambda: float(next(clock)))
    with pytest.raises(ParseLimit) as err:
        parse_pdf(blank_pdf(tmp_path / "slow.pdf", 3), CountingOcr(), limits=ParseLimits(seconds=150))
    assert "took longer than 150 s and was stopped at page 2 (RAG_PARSE__FILE_TIMEOUT_S)" in err.value.message


def test_a_stop_is_seen_between_pages(tmp_path):
    asked = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) > 2  # the caller leaves while page 3 is due

    with pytest.raises(Cancelled) as err:
        parse_pdf(blank_pdf(tmp_path / "doc.pdf", 10), CountingOcr(), stop=stop)
    assert "stopped at page 3" in err.value.message


def test_a_stop_reaches_page_range_processes(tmp_path):
    """A long PDF is read by several processes; the caller's stop is passed on to them (they raise Cancelled)."""
    with pytest.raises(Cancelled):
        parse_pdf(blank_pdf(tmp_path / "long.pdf", 120), None, workers=2, stop=lambda: True)


def test_a_huge_page_is_rendered_within_the_pixel_cap_and_says_so(tmp_path):
    ocr = CountingOcr()
    pdf = drawn_pdf(tmp_path / "poster.pdf", (3000, 3000), (0.9, 0.9, 0.9), text="A")
    parsed = parse_pdf(pdf, ocr, limits=ParseLimits(max_pixels=1_000_000))
    ((width, height),) = ocr.sizes
    assert width * height <= 1_000_000  # 200 dpi would have been 8333 x 8333 pixels
    assert parsed.pages[0].warning.startswith("page of 3000x3000 pt rendered at 24 dpi instead of 200")
    assert "RAG_PARSE__MAX_RENDER_PIXELS" in parsed.errors[0]


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("side", [10_000, 30_000])  # over our cap; over Pillow's own bomb limit as well
def test_an_image_bomb_is_refused_from_its_header(tmp_path, side):
    ocr = CountingOcr()
    with pytest.raises(ParseLimit) as err:
        parse_image(png_header_only(tmp_path / "bomb.png", side, side), ocr)
    assert err.value.status == 422 and "bomb.png" in err.value.message and "\n" not in err.value.message
    assert ocr.sizes == []
