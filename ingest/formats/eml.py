"""E-mail messages (EML, RFC 5322/MIME) read with the standard library's `email` package (policy.default).

The subject is the title (`h1`); From, To, Cc, Date and Subject are the document's metadata and a list of
header lines under the title; the body is the HTML part when there is one (read as a page, `ingest.formats.web`),
else the plain-text part; attachments are listed under an "Attachments" heading (name, type, size) and handed
to the pipeline (`ParsedDocument.attachments`), which ingests each as a document of its own linked to the
message.
"""

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

from ingest.formats.sections import block, flow_pages
from ingest.formats.text import text_blocks
from ingest.formats.web import read_html_text
from ingest.page import Block, ParsedDocument

HEADERS = ("From", "To", "Cc", "Date", "Subject")
MAX_ATTACHMENTS = 50


def _content(part) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError, AssertionError):
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", "replace")


def read_eml(path: Path, name: str) -> ParsedDocument:
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    metadata = {h.lower(): " ".join(str(msg[h]).split()) for h in HEADERS if msg[h] is not None}
    subject = metadata.get("subject", "") or name
    blocks: list[Block] = [block("title", subject, level=1)]
    blocks += [block("list_item", f"{h}: {metadata[h.lower()]}") for h in HEADERS if h.lower() in metadata]
    notes: list[str] = []
    body = msg.get_body(preferencelist=("html", "plain"))
    if body is not None:
        if body.get_content_type() == "text/html":
            page = read_html_text(_content(body), name)
            blocks += [b for p in page.pages for b in p.blocks]
            notes += page.notes
        else:
            blocks += text_blocks(_content(body))
    attachments: list[tuple[str, bytes]] = []
    listed: list[Block] = []
    for n, part in enumerate(msg.iter_attachments(), 1):
        filename = part.get_filename() or f"attachment-{n}"
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        listed.append(block("list_item", f"{filename} ({part.get_content_type()}, {len(data):,} bytes)"))
        if len(attachments) < MAX_ATTACHMENTS and data:
            attachments.append((filename, data))
    if listed:
        blocks += [block("heading", "Attachments", level=2), *listed]
    if len(listed) > MAX_ATTACHMENTS:
        notes.append(f"{len(listed)} attachments: the first {MAX_ATTACHMENTS} ingested")
    metadata["title"] = subject
    return ParsedDocument(name, flow_pages(blocks, subject), "eml", metadata=metadata, notes=notes, attachments=attachments)
