"""The HTML contract of DESIGN.md: <article> of <section data-page> of blocks with data-bbox."""

from html import escape

from ingest.page import Block, ParsedDocument

TAGS = {"title": "h1", "paragraph": "p", "header": "header", "footer": "footer"}


def bbox_attr(bbox) -> str:
    return ",".join(f"{v:g}" for v in bbox)


def table_html(block: Block) -> str:
    """A table with its first row as <thead>, merged cells as colspan/rowspan, caption and continuation kept."""

    def row_html(row: list[dict], cell_tag: str) -> str:
        cells = []
        for c in row:
            span = "".join(f' {k}="{c[k]}"' for k in ("colspan", "rowspan") if c.get(k, 1) > 1)
            cells.append(f"<{cell_tag}{span}>{escape(c['text'])}</{cell_tag}>")
        return "<tr>" + "".join(cells) + "</tr>"

    n = block.header_rows if len(block.rows) > block.header_rows else 0
    head, body = block.rows[:n], block.rows[n:]
    caption = f"<caption>{escape(block.caption)}</caption>" if block.caption else ""
    thead = "<thead>" + "".join(row_html(r, "th") for r in head) + "</thead>" if head else ""
    tbody = "<tbody>" + "".join(row_html(r, "td") for r in body) + "</tbody>"
    continued = ' data-continued="true"' if block.continued else ""
    return f'<table data-bbox="{bbox_attr(block.bbox)}"{continued}>{caption}{thead}{tbody}</table>'


def figure_html(block: Block) -> str:
    inner = "".join(f"<p>{escape(line)}</p>" for line in block.text.splitlines() if line.strip())
    caption = f"<figcaption>{escape(block.caption)}</figcaption>" if block.caption else ""
    return f'<figure data-bbox="{bbox_attr(block.bbox)}">{inner}{caption}</figure>'


def block_html(block: Block) -> str:
    """One block as HTML (list items are wrapped into lists by `blocks_html`)."""
    if block.kind == "table":
        return table_html(block)
    if block.kind == "figure":
        return figure_html(block)
    if block.kind == "list_item":
        return f'<li data-bbox="{bbox_attr(block.bbox)}">{escape(block.text)}</li>'
    if block.kind == "formula":
        number = f' data-number="{escape(block.marker)}"' if block.marker else ""
        return f'<p class="formula" data-bbox="{bbox_attr(block.bbox)}"{number}>{escape(block.text)}</p>'
    if block.kind in ("caption", "footnote"):
        return f'<p class="{block.kind}" data-bbox="{bbox_attr(block.bbox)}">{escape(block.text)}</p>'
    tag = f"h{block.level}" if block.kind == "heading" else TAGS.get(block.kind, "p")
    return f'<{tag} data-bbox="{bbox_attr(block.bbox)}">{escape(block.text)}</{tag}>'


def blocks_html(blocks: list[Block], indent: str = "") -> list[str]:
    """Blocks as HTML lines: consecutive list items of one kind wrapped in <ul> or <ol>, the blocks of one
    sidebar in <aside>."""
    lines: list[str] = []
    open_list, aside = "", None
    for b in blocks:
        want = ("ol" if b.ordered else "ul") if b.kind == "list_item" else ""
        if open_list and (want != open_list or b.aside != aside):
            lines.append(f"{indent}{'  ' if aside else ''}</{open_list}>")
            open_list = ""
        if b.aside != aside:
            if aside:
                lines.append(f"{indent}</aside>")
            if b.aside:
                lines.append(f'{indent}<aside data-bbox="{bbox_attr(b.aside)}">')
            aside = b.aside
        pad = indent + ("  " if aside else "")
        if want and not open_list:
            lines.append(f"{pad}<{want}>")
            open_list = want
        lines.append(pad + ("  " if open_list else "") + block_html(b))
    if open_list:
        lines.append(f"{indent}{'  ' if aside else ''}</{open_list}>")
    if aside:
        lines.append(f"{indent}</aside>")
    return lines


def to_html(doc: ParsedDocument) -> str:
    """The whole document as one HTML string (what `rag parse` prints and the store keeps)."""
    parts = [f'<article data-doc="{escape(doc.name)}" data-pages="{len(doc.pages)}">']
    for page in doc.pages:
        extra = f' data-rotation="{page.rotation}"' if page.rotation else ""
        extra += f' data-error="{escape(page.error)}"' if page.error else ""
        extra += f' data-label="{escape(page.label)}"' if page.label else ""
        extra += f' data-warning="{escape(page.warning)}"' if page.warning else ""
        parts.append(
            f'  <section data-page="{page.number}" data-width="{page.width:g}" '
            f'data-height="{page.height:g}" data-source="{page.source}"{extra}>'
        )
        parts.extend(blocks_html(page.blocks, "    "))
        parts.append("  </section>")
    parts.append("</article>")
    return "\n".join(parts) + "\n"
