import io
import zipfile

import pytest

from ingest.parse.sniff import sniff
from rag.core.errors import EmptyFile, EncryptedFile, NotFound, UnsupportedType


def _zip(path, parts: dict[str, bytes]):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    path.write_bytes(buf.getvalue())
    return path


def _ole(path, *streams: str):
    """An OLE2 header and directory entries naming `streams` (what sniffing looks at)."""
    body = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + b"".join(s.encode("utf-16-le") + b"\x00" * 16 for s in streams)
    path.write_bytes(body)
    return path


def test_types_come_from_bytes_not_names(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"%PDF-1.7\n...")
    (tmp_path / "b.pdf").write_bytes(b"\x89PNG\r\n\x1a\n....")
    (tmp_path / "c").write_bytes(b"\xff\xd8\xff\xe0....")
    (tmp_path / "d.tif").write_bytes(b"II*\x00....")
    assert [sniff(tmp_path / n) for n in ("a.bin", "b.pdf", "c", "d.tif")] == ["pdf", "image", "image", "image"]


def test_office_packages_by_their_parts_whatever_their_name(tmp_path):
    ct = {"[Content_Types].xml": b"<Types/>"}
    assert sniff(_zip(tmp_path / "report.pdf", {**ct, "word/document.xml": b"<w/>"})) == "docx"
    assert sniff(_zip(tmp_path / "deck", {**ct, "ppt/presentation.xml": b"<p/>"})) == "pptx"
    assert sniff(_zip(tmp_path / "book.xlsm", {**ct, "xl/workbook.xml": b"<x/>", "xl/vbaProject.bin": b"vba"})) == "xlsx"
    odt = {"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<c/>"}
    assert sniff(_zip(tmp_path / "letter.docx", odt)) == "odt"
    assert sniff(_ole(tmp_path / "old.bin", "Root Entry", "WordDocument")) == "doc"
    assert sniff(_ole(tmp_path / "old2", "Root Entry", "Workbook")) == "xls"
    assert sniff(_ole(tmp_path / "old3", "Root Entry", "PowerPoint Document")) == "ppt"


def test_text_formats_by_opening_then_by_extension(tmp_path):
    cases = {
        "page.txt": b"<!DOCTYPE html><html><body><p>x</p></body></html>",
        "x.xhtml": b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
        "mail": b"Received: by x\r\nFrom: a@b.c\r\nSubject: hi\r\n\r\nbody",
        "letter.doc": b"{\\rtf1\\ansi hello}",
        "notes.md": b"# Title\n\ntext",
        "t.csv": b"a,b\n1,2\n",
        "t.tsv": b"a\tb\n",
        "README": "plain text, naïve".encode(),
        "u16.txt": "text".encode("utf-16"),
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    kinds = [sniff(tmp_path / n) for n in cases]
    assert kinds == ["html", "html", "eml", "rtf", "markdown", "csv", "tsv", "text", "text"]


def test_bad_files_get_clear_one_line_reasons(tmp_path):
    (tmp_path / "empty.pdf").write_bytes(b"")
    (tmp_path / "x.docx").write_bytes(b"PK\x03\x04 zip")
    with pytest.raises(EmptyFile, match="empty file"):
        sniff(tmp_path / "empty.pdf")
    with pytest.raises(UnsupportedType, match="unsupported file type: x.docx is a damaged ZIP archive"):
        sniff(tmp_path / "x.docx")
    with pytest.raises(NotFound, match="no such file"):
        sniff(tmp_path / "missing.pdf")
    with pytest.raises(UnsupportedType, match="archive.zip is a ZIP archive but no office document"):
        sniff(_zip(tmp_path / "archive.zip", {"a.txt": b"x", "b.pdf": b"%PDF-1.4"}))
    with pytest.raises(EncryptedFile, match="password-protected office file: secret.docx"):
        sniff(_ole(tmp_path / "secret.docx", "Root Entry", "EncryptionInfo", "EncryptedPackage"))
    odf = {"mimetype": b"application/vnd.oasis.opendocument.text", "META-INF/manifest.xml": b"<manifest:encryption-data/>"}
    with pytest.raises(EncryptedFile, match="password-protected OpenDocument file"):
        sniff(_zip(tmp_path / "secret.odt", odf))
    with pytest.raises(UnsupportedType, match="Outlook .msg message"):
        sniff(_ole(tmp_path / "m.msg", "Root Entry", "__substg1.0_0037001F"))
    (tmp_path / "notes.pdf").write_bytes(b"just text, not a PDF")
    with pytest.raises(UnsupportedType, match="notes.pdf holds plain text, not what its .pdf name says"):
        sniff(tmp_path / "notes.pdf")
    (tmp_path / "blob").write_bytes(b"\x00\x01\x02\x03binary")
    with pytest.raises(UnsupportedType, match="unsupported file type: blob"):
        sniff(tmp_path / "blob")
