"""Sidebars: a boxed or shaded panel of text beside the main text (a callout, an "at a glance" box).

A person reads the main text through and the panel as one piece, so a sidebar's blocks are taken out of the
page's reading order and put back together, in their own reading order, after the main text of the page
(before blocks starting in the bottom 10% of the page: page numbers, footers). Each of its blocks carries the
panel's box in `aside`, and the HTML wraps them in one `<aside data-bbox>`.

A drawn rectangle is a sidebar when text lies inside it, it is at most about half as wide as the page's text,
main text runs beside it (left or right, at the same height), and it is not the frame of a figure or table.
A full-width box in the flow of the text is not a sidebar: it is read where it stands. Rectangles come from the
text layer's paths (born-digital) or from frames of long strokes in the image (scans, `ingest.parse.scan.frame_boxes`).
"""

from ingest.page import Block, center_in
from ingest.parse.layout import reading_order

MAX_WIDTH = 0.55  # of the text width
FOOT = 0.9  # blocks starting below this fraction of the page height stay after the sidebars


def _contains(outer: tuple, inner: tuple) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and outer[2] >= inner[2] and outer[3] >= inner[3]


def _area(box: tuple) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def _overlap(a: tuple, b: tuple) -> float:
    return _area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))


def _beside(block: Block, box: tuple) -> bool:
    """Left or right of the box and overlapping it vertically."""
    b = block.bbox
    vertical = min(b[3], box[3]) - max(b[1], box[1]) > 0
    return vertical and (b[2] <= box[0] or b[0] >= box[2])


def find_sidebars(blocks: list[Block], boxes: list[tuple]) -> list[tuple[tuple, list[Block]]]:
    """(panel box, its blocks) for each drawn box that holds text and stands beside the main text."""
    text = [b for b in blocks if b.kind not in ("table", "figure")]
    if not text or not boxes:
        return []
    floats = [b.bbox for b in blocks if b.kind in ("table", "figure")]
    left, right = min(b.bbox[0] for b in text), max(b.bbox[2] for b in text)
    found: list[tuple[tuple, list[Block]]] = []
    for box in sorted(boxes, key=lambda r: -(r[2] - r[0]) * (r[3] - r[1])):  # outermost first
        if (
            any(_contains(f[0], box) for f in found)
            or (box[2] - box[0]) > MAX_WIDTH * (right - left)
            or any(_overlap(box, f) > 0.5 * _area(f) for f in floats)
        ):  # a chart's frame, a table's cells
            continue
        inside = [b for b in text if center_in(b.bbox, box)]
        outside = [b for b in text if b not in inside]
        if inside and sum(len(b.text) for b in inside) >= 20 and any(_beside(b, box) for b in outside):
            found.append((box, inside))
    return found


def order_with_sidebars(blocks: list[Block], boxes: list[tuple], gutters: list[float], page_height: float) -> list[Block]:
    """Reading order with each sidebar read whole after the main text (see the module docstring)."""
    sidebars = find_sidebars(blocks, boxes)
    if not sidebars:
        return reading_order(blocks, gutters)
    taken = {id(b) for _, inside in sidebars for b in inside}
    main = reading_order([b for b in blocks if id(b) not in taken], gutters)
    cut = len(main)
    while cut > 0 and main[cut - 1].bbox[1] > FOOT * page_height:
        cut -= 1
    panels = []
    for box, inside in sorted(sidebars, key=lambda s: (s[0][1], s[0][0])):
        for b in reading_order(inside, []):
            b.aside = tuple(round(v, 1) for v in box)
            panels.append(b)
    return main[:cut] + panels + main[cut:]
