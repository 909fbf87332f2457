"""Page images for the web app's viewer: the resolution clamp, the disk cache and its cap, rendering PDFs and page
images upright, locating a quote's lines, and the page routes (access, 404, 415, cache headers)."""

import io
import os
import shutil

import pytest
from PIL import Image

from ingest.pages.cache import PageImageCache
from ingest.pages.quote import quote_boxes
from ingest.pages.render import PageSource, clamp_dpi, page_source, render_png
from ingest.parse.html import to_html
from ingest.parse.pdf import parse_pdf
from rag.core.errors import NotFound, UnsupportedType
from rag.core.files import layout_html_path, original_path, page_images_dir
from rag.core.hashing import sha256_file
from rag.core.settings import PagesSettings
from rag.core.types import Chunk, Document
from rag.service.access import KeyRing
from tests.helpers import docgen
from tests.helpers.apps import client, make_app, put

MEAL = "The daily meal allowance on business trips is 55 EUR within Europe."


def png_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "PNG"
        return img.size


@pytest.fixture(scope="module")
def handbook(tmp_path_factory):
    d = tmp_path_factory.mktemp("pages")
    return docgen.simple_pdf(
        d / "handbook.pdf",
        [("Working hours", ["Core working hours are from 10:00 to 15:00 on weekdays."]), ("Travel", [MEAL])],
        title="Staff Handbook",
    )


# ---- the resolution ------------------------------------------------------------------------------------------------


def test_dpi_is_the_default_when_missing_and_clamped_to_the_safe_range():
    cfg = PagesSettings(default_dpi=110, min_dpi=36, max_dpi=220)
    assert clamp_dpi(None, cfg) == 110
    assert clamp_dpi(1, cfg) == 36 and clamp_dpi(-50, cfg) == 36
    assert clamp_dpi(100_000, cfg) == 220
    assert clamp_dpi(150, cfg) == 150


# ---- the disk cache ------------------------------------------------------------------------------------------------


def test_cache_hits_after_a_put_and_counts_hits_and_misses(tmp_path):
    cache = PageImageCache(tmp_path, 10_000)
    assert cache.get("doc", 1, 100) is None
    cache.put("doc", 1, 100, b"x" * 100)
    assert cache.get("doc", 1, 100) == b"x" * 100
    assert cache.get("doc", 1, 150) is None  # another resolution is another image
    assert (cache.hits, cache.misses) == (1, 2)
    assert cache.path("doc", 1, 100) == page_images_dir(tmp_path, "doc") / "1-100.png"
    assert not list(cache.path("doc", 1, 100).parent.glob("*.tmp"))


def test_cache_over_its_cap_drops_the_least_recently_used_first(tmp_path):
    cache = PageImageCache(tmp_path, 1000)
    for page in (1, 2, 3):
        cache.put("doc", page, 100, bytes(300))
        os.utime(cache.path("doc", page, 100), (1000 + page, 1000 + page))  # 1 is oldest, 3 newest
    assert cache.get("doc", 1, 100) is not None  # used now: the newest
    cache.put("doc", 4, 100, bytes(300))  # 1200 bytes > 1000: evict down to <= 900
    assert cache.get("doc", 2, 100) is None  # the least recently used went
    assert all(cache.get("doc", p, 100) is not None for p in (1, 3, 4))
    assert cache.size() == 900


def test_cache_of_zero_keeps_nothing_and_an_image_over_the_cap_is_not_kept(tmp_path):
    none = PageImageCache(tmp_path / "a", 0)
    none.put("doc", 1, 100, b"png")
    assert none.get("doc", 1, 100) is None and none.size() == 0
    small = PageImageCache(tmp_path / "b", 10)
    small.put("doc", 1, 100, bytes(11))
    assert small.get("doc", 1, 100) is None


def test_cache_counts_what_an_earlier_process_left(tmp_path):
    PageImageCache(tmp_path, 10_000).put("doc", 1, 100, bytes(700))
    again = PageImageCache(tmp_path, 1000)
    again.put("doc", 2, 100, bytes(400))  # 1100 with the old one: the old (least recent) one goes
    assert again.get("doc", 1, 100) is None and again.get("doc", 2, 100) is not None


# ---- rendering -----------------------------------------------------------------------------------------------------


def test_pdf_pages_render_at_the_asked_resolution_and_a_missing_page_is_not_found(handbook):
    source = PageSource(handbook, "pdf")
    assert png_size(render_png(source, 1, 72)) == (612, 792)  # US letter in points
    assert png_size(render_png(source, 2, 144)) == (1224, 1584)
    assert png_size(render_png(source, 1, 144, max_pixels=612 * 792)) == (612, 792)  # lowered to the pixel cap
    with pytest.raises(NotFound, match="page 3 not found: the document has 2 pages"):
        render_png(source, 3, 72)
    with pytest.raises(NotFound):
        render_png(source, 0, 72)


def test_a_page_image_is_shown_upright_at_most_at_its_own_resolution(tmp_path):
    path = tmp_path / "scan.png"
    Image.new("RGB", (300, 200), "white").save(path, dpi=(300, 300))
    source = PageSource(path, "image")
    assert png_size(render_png(source, 1, 150)) == (150, 100)  # 300 dpi shown at 150
    assert png_size(render_png(source, 1, 600)) == (300, 200)  # never enlarged
    assert png_size(render_png(source, 1, 300, rotation=90)) == (200, 300)  # turned as ingest turned it
    with pytest.raises(NotFound):
        render_png(source, 2, 150)


def _doc(path, doc_id="d1", sha=None) -> Document:
    return Document(id=doc_id, name=path.name, path=str(path), collection="hr", sha256=sha or sha256_file(path), status="ok")


def test_page_source_is_the_kept_original_else_the_unchanged_file_at_its_path(tmp_path, handbook):
    data = tmp_path / "data"
    doc = _doc(handbook)
    assert page_source(data, doc) == PageSource(handbook, "pdf")  # not kept: the file, same content
    kept = original_path(data, doc.id)
    kept.parent.mkdir(parents=True)
    shutil.copyfile(handbook, kept)
    assert page_source(data, doc) == PageSource(kept, "pdf")
    kept.unlink()
    with pytest.raises(NotFound, match="original file is not kept"):
        page_source(data, _doc(handbook, sha="0" * 64))  # the file at its path changed since


def test_office_documents_have_no_page_images(tmp_path):
    from tests.helpers.office_docs import make_docx

    path = make_docx(tmp_path / "policy.docx")
    with pytest.raises(UnsupportedType, match="is a docx document: its sections are no printed pages") as err:
        page_source(tmp_path / "data", _doc(path))
    assert err.value.status == 415


def test_a_quote_is_located_on_its_lines_of_a_born_digital_page(handbook):
    boxes = quote_boxes(handbook, 2, MEAL)
    assert boxes and all(0 <= x0 < x1 <= 612 and 0 <= y0 < y1 <= 792 for x0, y0, x1, y1 in boxes)
    words = [b for b in parse_pdf(handbook).pages[1].blocks if "55 EUR" in b.text]
    bx0, by0, bx1, by1 = words[0].bbox
    assert all(y0 >= by0 - 3 and y1 <= by1 + 3 for _, y0, _, y1 in boxes)  # within the paragraph's box
    longer = quote_boxes(handbook, 2, MEAL.replace("business", "business (abroad)"))  # not verbatim: first words to last
    assert longer == boxes
    assert quote_boxes(handbook, 1, MEAL) == []  # not on page 1
    assert quote_boxes(handbook, 9, MEAL) == []


# ---- the routes ----------------------------------------------------------------------------------------------------


def _ingested(services, path, collection="hr") -> Document:
    """A PDF stored as ingest stores it: its chunks, its layout HTML and its kept original."""
    parsed = parse_pdf(path)
    digest = sha256_file(path)
    doc = Document(
        id=digest[:16],
        name=path.name,
        path=f"uploads/{path.name}",
        collection=collection,
        sha256=digest,
        status="ok",
        pages=len(parsed.pages),
    )
    data = services.settings.data_dir
    layout_html_path(data, doc.id).parent.mkdir(parents=True, exist_ok=True)
    layout_html_path(data, doc.id).write_text(to_html(parsed), encoding="utf-8")
    original_path(data, doc.id).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, original_path(data, doc.id))
    chunks = [
        Chunk(id=f"{doc.id}-{i}", doc_id=doc.id, page=p.number, bbox=list(b.bbox), text=b.text)
        for i, (p, b) in enumerate((p, b) for p in parsed.pages for b in p.blocks)
    ]
    services.kb.put_document(doc, 1, 0.0, chunks)
    return doc


def test_page_routes_render_cache_clamp_and_check_access(tmp_path, handbook):
    app, services = make_app(tmp_path, host="0.0.0.0", auth={"rate_per_min": 1000}, pages={"max_dpi": 100})
    doc = _ingested(services, handbook)
    other = put(services, "finance", "ledger.txt", ["Secret finance figure 777."])
    ring = KeyRing(services.kb.store)
    hr = client(app, ring.create(["hr"], "read")[0])
    finance = client(app, ring.create(["finance"], "read")[0])

    first = hr.get(f"/v1/documents/{doc.id}/pages/2.png", params={"dpi": 72})
    assert first.status_code == 200 and first.headers["content-type"] == "image/png"
    assert first.headers["x-page-cache"] == "miss" and png_size(first.content) == (612, 792)
    again = hr.get(f"/v1/documents/{doc.id}/pages/2.png", params={"dpi": 72})
    assert again.headers["x-page-cache"] == "hit" and again.content == first.content
    big = hr.get(f"/v1/documents/{doc.id}/pages/1.png", params={"dpi": 9999})
    assert big.headers["x-page-dpi"] == "100" and png_size(big.content) == (850, 1100)

    assert hr.get(f"/v1/documents/{doc.id}/pages/3.png").status_code == 404
    r = finance.get(f"/v1/documents/{doc.id}/pages/1.png")  # another collection's document: as if none
    assert r.status_code == 404 and r.json()["detail"] == f"no document {doc.id}"
    assert hr.get(f"/v1/documents/{doc.id}/pages/x.png").status_code == 422

    pages = hr.get(f"/v1/documents/{doc.id}/pages").json()
    assert pages["images"] is True and [(p["n"], p["width"], p["height"]) for p in pages["pages"]] == [
        (1, 612, 792),
        (2, 612, 792),
    ]
    one = hr.get(f"/v1/documents/{doc.id}/pages/2", params={"quote": MEAL}).json()
    assert one["n"] == 2 and one["quote_boxes"] == quote_boxes(handbook, 2, MEAL)
    assert hr.get(f"/v1/documents/{doc.id}/pages/2").json()["quote_boxes"] == []

    # a document with no layout pages kept (put straight into the store): its pages are not found, not an error 500
    assert finance.get(f"/v1/documents/{other.id}/pages/1.png").status_code == 404

    # a deleted document takes its original and its cached images with it
    writer = client(app, ring.create(["hr"], "write")[0])
    assert page_images_dir(tmp_path, doc.id).is_dir() and original_path(tmp_path, doc.id).is_file()
    assert writer.delete(f"/v1/documents/{doc.id}").json()["outcome"] == "deleted"
    assert not page_images_dir(tmp_path, doc.id).exists() and not original_path(tmp_path, doc.id).exists()
    assert hr.get(f"/v1/documents/{doc.id}/pages/1.png").status_code == 404


def test_an_office_document_has_no_page_images_and_its_page_list_says_why(tmp_path):
    from tests.helpers.office_docs import make_docx

    app, services = make_app(tmp_path)
    path = make_docx(tmp_path / "policy.docx")
    doc = _doc(path, doc_id="0123456789abcdef")
    services.kb.put_document(doc, 1, 0.0, [Chunk(id="c1", doc_id=doc.id, page=1, text="Annual leave is 30 days.")])
    layout_html_path(tmp_path, doc.id).parent.mkdir(parents=True, exist_ok=True)
    layout_html_path(tmp_path, doc.id).write_text(
        '<article data-doc="policy.docx" data-pages="1">\n  <section data-page="1" data-width="0" data-height="0" '
        'data-source="text" data-label="Leave" data-warning="a picture could not be read">\n  </section>\n</article>\n'
    )
    c = client(app)  # loopback: no key needed
    pages = c.get(f"/v1/documents/{doc.id}/pages").json()
    assert pages["images"] is False and "has no printed pages" in pages["reason"]
    assert pages["pages"][0]["label"] == "Leave" and pages["pages"][0]["warning"] == "a picture could not be read"
    r = c.get(f"/v1/documents/{doc.id}/pages/1.png")
    assert r.status_code == 415 and "policy.docx has no printed pages" in r.json()["detail"]
    # as uploaded: its file gone (and none kept, as for every office file), its sections still say it has no pages
    path.unlink()
    assert c.get(f"/v1/documents/{doc.id}/pages/1.png").status_code == 415
    assert "has no printed pages" in c.get(f"/v1/documents/{doc.id}/pages").json()["reason"]
