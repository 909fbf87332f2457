"""Simple, fast layout analysis: words -> lines -> blocks -> reading order (recursive XY-cut).

Columns are found as vertical gutters no block crosses; full-width blocks (titles, wide tables)
split the page into bands first, so a two-column article under a full-width title reads
left column then right column.
"""

import re
import statistics
from collections.abc import Sequence

from ingest.page import Block, Word, words_box

HYPHEN_END = re.compile(r"[A-Za-z]-$")
BULLET = re.compile(r"^([\u2022\u25aa\u25cf\u25e6\u2013\u2014\u00b7\-\u2212]|\(?\d{1,2}[.)]|\(?[a-z][.)])$")
GLYPH_BULLET = re.compile(r"^[\u2022\u25aa\u25cf\u25e6\u2013\u2014\u00b7\-\u2212]$")


def find_gutters(words: list[Word]) -> list[float]:
    """x positions of column gutters: tall vertical strips almost no word covers, with text on both sides.

    Full-width titles and headings may cross a gutter; they are few next to the column lines, so a strip
    counts as empty when its coverage is under a fifth of the typical coverage of text.
    """
    if len(words) < 30:
        return []
    left, right = min(w.x0 for w in words), max(w.x1 for w in words)
    heights = sorted(w.bottom - w.top for w in words)
    unit = max(heights[len(heights) // 2], 1.0)
    step = unit / 4
    bins = int((right - left) / step) + 2
    cover = [0] * bins
    for w in words:
        for i in range(int((w.x0 - left) / step), int((w.x1 - left) / step) + 1):
            cover[i] += 1
    typical = sorted(c for c in cover if c)[len([c for c in cover if c]) // 2]
    low = [c <= 0.2 * typical for c in cover]
    gutters, i = [], 0
    while i < bins:
        if not low[i]:
            i += 1
            continue
        j = i
        while j < bins and low[j]:
            j += 1
        x0, x1 = left + i * step, left + j * step
        if (x1 - x0) >= 0.5 * unit and x0 - left > 0.15 * (right - left) and right - x1 > 0.15 * (right - left):
            gutters.append((x0 + x1) / 2)
        i = j
    return gutters


def _attach_bullets(segments: list[list[Word]]) -> list[list[Word]]:
    """A bullet glyph often sits a little off its text's baseline and lands alone: join it to the text it opens."""

    def lone(seg):
        return len(seg) == 1 and GLYPH_BULLET.match(seg[0].text)

    kept = []
    for seg in segments:
        if lone(seg):
            b = seg[0]
            mid, h = (b.top + b.bottom) / 2, max(b.bottom - b.top, 1)
            home = next(
                (
                    s
                    for s in segments
                    if not lone(s) and min(w.top for w in s) <= mid <= max(w.bottom for w in s) and 0 <= s[0].x0 - b.x1 < 3 * h
                ),
                None,
            )
            if home is not None:
                home.insert(0, b)
                continue
        kept.append(seg)
    return kept


def group_lines(words: list[Word], gutters: list[float] | None = None) -> list[list[Word]]:
    """Words on the same baseline band, split at column gutters and at gaps wider than 1.5 line heights."""
    gutters = find_gutters(words) if gutters is None else gutters
    segments: list[list[Word]] = []
    rows: list[list[Word]] = []
    for w in sorted(words, key=lambda w: (round(w.top, 1), w.x0)):
        mid = (w.top + w.bottom) / 2
        for row in rows:
            r = row[0]
            if abs((r.top + r.bottom) / 2 - mid) < 0.5 * max(r.bottom - r.top, w.bottom - w.top, 1):
                row.append(w)
                break
        else:
            rows.append([w])
    for row in rows:
        row.sort(key=lambda w: w.x0)
        current = [row[0]]
        for w in row[1:]:
            height = max(w.bottom - w.top, current[-1].bottom - current[-1].top, 1)
            gap = w.x0 - current[-1].x1
            at_gutter = gap > 0.8 * height and any(current[-1].x1 <= g <= w.x0 for g in gutters)
            bullet = len(current) == 1 and GLYPH_BULLET.match(current[0].text) and gap < 3 * height and not at_gutter
            if not bullet and (gap > 1.5 * height or at_gutter):
                segments.append(current)
                current = [w]
            else:
                current.append(w)
        segments.append(current)
    return _attach_bullets(segments)


def _size(words: list[Word]) -> float:
    sizes = [w.size or (w.bottom - w.top) for w in words]
    return statistics.median(sizes) if sizes else 0.0


def join_lines(lines: list[str]) -> str:
    """Join a block's lines into one paragraph, repairing words hyphenated at line ends."""
    text = ""
    for line in lines:
        line = line.strip()
        if not text:
            text = line
        elif HYPHEN_END.search(text) and line[:1].islower():
            text = text[:-1] + line
        else:
            text += " " + line
    return text


def is_caps_heading(text: str) -> bool:
    """A short line in capitals ("SAFETY NOTICE", "2. RESULTS"): a heading whatever its font size says."""
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and len(text.split()) <= 10 and all(c.isupper() for c in letters) and not text.rstrip().endswith(".")


def build_blocks(words: list[Word], gutters: list[float] | None = None) -> list[Block]:
    """Merge line segments into paragraph blocks: close below, overlapping in x, similar font size."""
    segments = sorted(group_lines(words, gutters), key=lambda s: (words_box(s)[1], words_box(s)[0]))
    open_blocks: list[dict] = []
    for seg in segments:
        x0, top, x1, bottom = words_box(seg)
        size = _size(seg)
        bold = all(w.bold for w in seg)
        height = bottom - top
        target = None
        bullet = bool(BULLET.match(seg[0].text)) and len(seg) > 1
        for b in [] if bullet else reversed(open_blocks):
            bx0, _, bx1, bbottom = b["box"]
            overlap = min(x1, bx1) - max(x0, bx0)
            gap = top - bbottom
            step = top - b["last_top"]  # line pitch: a paragraph break shows as a larger step
            limit = 1.25 * b["pitch"] if b["pitch"] else 1.45 * max(height, b["height"], 1)
            similar = abs(size - b["size"]) <= 0.15 * max(size, b["size"], 1)
            caps_head = (
                len(b["lines"]) == 1 and is_caps_heading(b["lines"][0]) and not is_caps_heading(" ".join(w.text for w in seg))
            )
            if not caps_head and (
                overlap > 0.3 * min(x1 - x0, bx1 - bx0)
                and -0.3 * height <= gap < 0.9 * max(height, 1)
                and 0 < step <= limit
                and similar
                and bold == b["bold"]
            ):
                target = b
                break
        line = " ".join(w.text for w in seg)
        if target:
            target["pitch"] = target["pitch"] or top - target["last_top"]
            target["last_top"] = top
            target["lines"].append(line)
            bx0, btop, bx1, bbottom = target["box"]
            target["box"] = (min(bx0, x0), btop, max(bx1, x1), max(bbottom, bottom))
        else:
            if bullet:
                ordered = not GLYPH_BULLET.match(seg[0].text)
                line = " ".join(w.text for w in seg[1:])
            open_blocks.append(
                {
                    "box": (x0, top, x1, bottom),
                    "size": size,
                    "bold": bold,
                    "lines": [line],
                    "last_top": top,
                    "pitch": 0.0,
                    "height": height,
                    "list": bullet,
                    "ordered": bullet and ordered,
                    "marker": seg[0].text if bullet else "",
                }
            )
    return [
        Block(
            kind="list_item" if b["list"] else "paragraph",
            bbox=tuple(round(v, 1) for v in b["box"]),
            text=join_lines(b["lines"]),
            size=b["size"],
            level=1 if b["bold"] else 0,
            ordered=b["ordered"],
            marker=b["marker"],
        )
        for b in open_blocks
    ]


def _split(blocks: list[Block], axis: int, min_gap: float) -> list[list[Block]]:
    """Partition blocks along an axis (0 = x, 1 = y) at gaps no block covers."""
    lo, hi = axis, axis + 2
    items = sorted(blocks, key=lambda b: b.bbox[lo])
    groups, reach = [[items[0]]], items[0].bbox[hi]
    for b in items[1:]:
        if b.bbox[lo] - reach >= min_gap:
            groups.append([b])
        else:
            groups[-1].append(b)
        reach = max(reach, b.bbox[hi])
    return groups


def _split_at_wide(blocks: list[Block], gutters: list[float]) -> list[list[Block]]:
    """Bands of the region cut just above and below each block wider than 60% of the region or crossing a gutter."""
    x0 = min(b.bbox[0] for b in blocks)
    x1 = max(b.bbox[2] for b in blocks)
    wide = [
        b for b in blocks if b.bbox[2] - b.bbox[0] >= 0.6 * (x1 - x0) or any(b.bbox[0] + 2 < g < b.bbox[2] - 2 for g in gutters)
    ]
    if not wide or len(wide) == len(blocks):
        return [blocks]
    groups: list[list[Block]] = []
    rest = sorted((b for b in blocks if b not in wide), key=lambda b: b.bbox[1])
    for w in sorted(wide, key=lambda b: b.bbox[1]):
        above = [b for b in rest if (b.bbox[1] + b.bbox[3]) / 2 < w.bbox[1]]
        rest = [b for b in rest if b not in above]
        if above:
            groups.append(above)
        groups.append([w])
    if rest:
        groups.append(rest)
    return groups


def reading_order(blocks: list[Block], gutters: Sequence[float] = ()) -> list[Block]:
    """Order blocks as a person reads: bands top to bottom, columns left to right within a band.

    Blocks crossing a column gutter (titles, centred page numbers, spanning tables) cut the page into bands.
    """
    if len(blocks) <= 1:
        return list(blocks)
    for groups in (_split(blocks, 0, 4.0), _split_at_wide(blocks, list(gutters)), _split(blocks, 1, 1.0)):
        if len(groups) > 1:
            return [b for g in groups for b in reading_order(g, gutters)]
    return sorted(blocks, key=lambda b: (b.bbox[1], b.bbox[0]))


def body_font_size(words: list[Word]) -> float:
    """The font size carrying most characters: the body text size."""
    weight: dict[float, int] = {}
    for w in words:
        size = round(w.size or (w.bottom - w.top), 1)
        weight[size] = weight.get(size, 0) + len(w.text)
    return max(weight, key=weight.__getitem__) if weight else 0.0
