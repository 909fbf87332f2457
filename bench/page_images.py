"""Page images of real documents in reading order: the OCR path against the same page's text layer.

Pages of real born-digital PDFs (by default the ICDAR 2013 EU dev set in ../shared/data) are rendered to images at
150, 200 or 300 dpi, some turned by 90 or 180 degrees or skewed by 2 degrees, and parsed as page images (upright,
OCR, layout model, tables). The reference is the born-digital parse of the same page (text layer, same layout
code), both read with `html_text` (headers and footers left out, table cells in row order). Per page:
- normalised edit distance: edit distance of the two texts over the longer length (0 = the same text);
- block order: of the reference's lines found in the OCR text (their first 24 characters, exactly), the share of
  consecutive pairs that come in the same order;
- tables: how many tables each side found (an OCR page with more tables than its text layer invented them: a
  multi-column page read as a table shows up here).

Run:  .venv/bin/python bench/page_images.py [--pages 12] [--folder DIR]
Writes bench/out/page_images.json. Reports scores only.
"""

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ROOT, env_info, setup_env, table, write_result  # noqa: E402

DEFAULT_FOLDER = ROOT.parent / "shared" / "data" / "icdar2013-eu-dev" / "pdfs"
VARIANTS = [(200, 0, 0.0), (150, 0, 0.0), (300, 0, 0.0), (200, 90, 0.0), (200, 180, 0.0), (200, 0, 2.0)]


def normalised_distance(reference: str, hypothesis: str) -> float:
    from rag.evaluation.parse_scores import edit_distance

    a, b = " ".join(reference.split()), " ".join(hypothesis.split())
    if not a and not b:
        return 0.0
    return edit_distance(a, b) / max(len(a), len(b))


def block_order(reference: str, hypothesis: str, key: int = 24) -> float | None:
    """Share of consecutive reference lines (found in the hypothesis) that keep their order."""
    flat = " ".join(hypothesis.split())
    found = []
    for line in reference.splitlines():
        probe = " ".join(line.split())[:key]
        if len(probe) >= 8 and (at := flat.find(probe)) >= 0:
            found.append(at)
    if len(found) < 2:
        return None
    return sum(b > a for a, b in zip(found, found[1:], strict=False)) / (len(found) - 1)


def page_image(pdf: Path, index: int, dpi: int, rotation: int, skew: float, out: Path) -> Path:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    try:
        image = doc[index].render(scale=dpi / 72).to_pil().convert("RGB")
    finally:
        doc.close()
    if rotation:
        image = image.rotate(-rotation, expand=True)
    if skew:
        image = image.rotate(skew, expand=True, fillcolor="white")
    image.save(out, dpi=(dpi, dpi))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folder", type=Path, default=DEFAULT_FOLDER, help="born-digital PDFs to take pages from")
    ap.add_argument("--pages", type=int, default=12, help="how many pages (page 1 of each PDF by name, then page 2)")
    args = ap.parse_args()
    setup_env()
    import pypdfium2 as pdfium

    from ingest.page import ParsedDocument
    from ingest.parse.html import to_html
    from ingest.pipeline import Ingestor
    from rag.core.settings import Settings
    from rag.evaluation.parse_scores import html_text
    from rag.service.services import Services

    tmp = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    ingestor = Ingestor(Services(Settings(data_dir=tmp / "data")))
    pdfs = sorted(args.folder.glob("*.pdf"))
    picks: list[tuple[Path, int]] = []
    for index in range(3):
        for pdf in pdfs:
            doc = pdfium.PdfDocument(str(pdf))
            n = len(doc)
            doc.close()
            if index < n and len(picks) < args.pages:
                picks.append((pdf, index))
    rows = []
    for k, (pdf, index) in enumerate(picks):
        dpi, rotation, skew = VARIANTS[k % len(VARIANTS)]
        parsed = ingestor.parse(pdf)
        page = parsed.pages[index]
        reference = to_html(ParsedDocument(name=pdf.name, pages=[page], kind="pdf"))
        image = page_image(pdf, index, dpi, rotation, skew, tmp / f"{pdf.stem}-p{index + 1}.png")
        t0 = time.perf_counter()
        ours = to_html(ingestor.parse(image))
        seconds = time.perf_counter() - t0
        ref_text, our_text = html_text(reference), html_text(ours)
        rows.append(
            {
                "page": f"{pdf.name} p{index + 1}",
                "dpi": dpi,
                "rotation": rotation,
                "skew": skew,
                "distance": round(normalised_distance(ref_text, our_text), 4),
                "block_order": block_order(ref_text, our_text),
                "tables_text_layer": len(re.findall(r"<table\b", reference)),
                "tables_ocr": len(re.findall(r"<table\b", ours)),
                "seconds": round(seconds, 2),
            }
        )
        print(rows[-1], flush=True)
    distance = statistics.fmean(r["distance"] for r in rows)
    orders = [r["block_order"] for r in rows if r["block_order"] is not None]
    invented = sum(r["tables_ocr"] > r["tables_text_layer"] for r in rows)
    print(
        table(
            ["page", "dpi", "turned", "skew", "distance", "block order", "tables layer/OCR", "s"],
            [
                [
                    r["page"],
                    r["dpi"],
                    r["rotation"],
                    r["skew"],
                    r["distance"],
                    "-" if r["block_order"] is None else round(r["block_order"], 3),
                    f"{r['tables_text_layer']}/{r['tables_ocr']}",
                    r["seconds"],
                ]
                for r in rows
            ],
            title="Page images in reading order against the text layer (distance: lower is better)",
        )
    )
    summary = {
        "pages": len(rows),
        "mean_distance": round(distance, 4),
        "mean_block_order": round(statistics.fmean(orders), 4) if orders else None,
        "pages_with_invented_tables": invented,
        "pages_per_s": round(len(rows) / sum(r["seconds"] for r in rows), 3),
    }
    print(summary)
    write_result("page_images", {"benchmark": "page_images", "summary": summary, "pages": rows, "env": env_info()})


if __name__ == "__main__":
    main()
