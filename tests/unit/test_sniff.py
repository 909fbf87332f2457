import pytest

from ingest.parse.sniff import sniff
from rag.core.errors import EmptyFile, NotFound, UnsupportedType


def test_types_come_from_bytes_not_names(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"%PDF-1.7\n...")
    (tmp_path / "b.pdf").write_bytes(b"\x89PNG\r\n\x1a\n....")
    (tmp_path / "c").write_bytes(b"\xff\xd8\xff\xe0....")
    (tmp_path / "d.tif").write_bytes(b"II*\x00....")
    assert [sniff(tmp_path / n) for n in ("a.bin", "b.pdf", "c", "d.tif")] == ["pdf", "image", "image", "image"]


def test_bad_files_get_clear_errors(tmp_path):
    (tmp_path / "empty.pdf").write_bytes(b"")
    (tmp_path / "x.docx").write_bytes(b"PK\x03\x04 zip")
    with pytest.raises(EmptyFile, match="empty file"):
        sniff(tmp_path / "empty.pdf")
    with pytest.raises(UnsupportedType, match="unsupported file type: x.docx"):
        sniff(tmp_path / "x.docx")
    with pytest.raises(NotFound, match="no such file"):
        sniff(tmp_path / "missing.pdf")
