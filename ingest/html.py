"""The HTML contract of DESIGN.md: <article> of <section data-page> of blocks with data-bbox."""

from html import escape

from ingest.model import Block, ParsedDocument

TAGS = {"title": "h1", "paragraph": "p", "header": "header", "footer": "footer"}


def bbox_attr(bbox) -> str:
    return ",".join(f"{v:g}" for v in bbox)


def table_html(block: Block) -> str:
    """A table with its first row as <thead>, merged cells as colspan/rowspan."""

    def row_html(row: list[dict], cell_tag: str) -> str:
        cells = []
        for c in row:
            span = "".join(f' {k}="{c[k]}"' for k in ("colspan", "rowspan") if c.get(k, 1) > 1)
            cells.append(f"<{cell_tag}{span}>{escape(c['text'])}</{cell_tag}>")
        return "<tr>" + "".join(cells) + "</tr>"

    head, body = block.rows[:1], block.rows[1:]
    thead = "<thead>" + "".join(row_html(r, "th") for r in head) + "</thead>" if head else ""
    tbody = "<tbody>" + "".join(row_html(r, "td") for r in body) + "</tbody>"
    return f'<table data-bbox="{bbox_attr(block.bbox)}">{thead}{tbody}</table>'


def block_html(block: Block) -> str:
    if block.kind == "table":
        return table_html(block)
    tag = f"h{block.level}" if block.kind == "heading" else TAGS.get(block.kind, "p")
    return f'<{tag} data-bbox="{bbox_attr(block.bbox)}">{escape(block.text)}</{tag}>'


def to_html(doc: ParsedDocument) -> str:
    """The whole document as one HTML string (what `rag parse` prints and the store keeps)."""
    parts = [f'<article data-doc="{escape(doc.name)}" data-pages="{len(doc.pages)}">']
    for page in doc.pages:
        parts.append(f'  <section data-page="{page.number}" data-width="{page.width:g}" '
                     f'data-height="{page.height:g}" data-source="{page.source}">')
        parts.extend("    " + block_html(b) for b in page.blocks)
        parts.append("  </section>")
    parts.append("</article>")
    return "\n".join(parts) + "\n"
