"""Pictures inside documents (a scanned page pasted into Word, a chart or photo on a slide) read for their text.

Readers put a figure block where a picture is, its alt text as the figure's text and `marker` "image:N" pointing
at the picture's bytes in `ParsedDocument.images`; `fill_images` then gives each figure the text an OCR function
finds in its picture (after the alt text), and drops figures left with no text at all. The OCR function is the
pipeline's (`Ingestor`): the page-image path of scans (OCR, layout model), so a pasted scan reads like a scan.
Pictures smaller than `MIN_SIDE` pixels on a side (icons, logos, rules) and past the first `MAX_IMAGES` of a
document are not read.
"""

import re
from collections.abc import Callable

from ingest.page import ParsedDocument

MIN_SIDE = 120
MAX_IMAGES = 50
IMAGE = "image:"
FILE_NAME = re.compile(r"^[\w .()-]+\.(png|jpe?g|gif|bmp|tiff?|emf|wmf|svg|webp)$", re.IGNORECASE)


def alt_text(descr: str | None) -> str:
    """A picture's description, unless it is only the file name the authoring tool put there ("scan.png")."""
    text = " ".join((descr or "").split())
    return "" if FILE_NAME.match(text) else text


def fill_images(doc: ParsedDocument, read: Callable[[bytes], str] | None) -> None:
    """Each picture's text into its figure (`read(bytes) -> text`, None: alt text only); empty figures dropped."""
    done = 0
    for page in doc.pages:
        kept = []
        for b in page.blocks:
            if b.kind == "figure" and b.marker.startswith(IMAGE):
                data = doc.images.get(b.marker[len(IMAGE) :])
                b.marker = ""
                if read is not None and data and done < MAX_IMAGES:
                    done += 1
                    text = read(data).strip()
                    if text:
                        b.text = "\n".join(t for t in (b.text.strip(), text) if t)
                if not (b.text.strip() or b.caption.strip()):
                    continue
            kept.append(b)
        page.blocks = kept
    doc.images.clear()
