"""Shared fixtures: generated documents with known text, and services on the real packaged models."""

import os
import socket
from pathlib import Path

import pytest

from tests.helpers import docgen
from tests.helpers.models import MODELS_DIR, SMALL_MODEL

FACT_DOC_PAGES = [
    (
        "Fleet maintenance",
        ["The harbour crane was inspected on 14 March 2024 by Ingrid Solheim.", "Crane inspections are repeated every 90 days."],
    ),
    ("Cafeteria", ["The cafeteria on level 2 serves lunch between 11:30 and 13:30.", "Vegetarian dishes are offered every day."]),
]


@pytest.fixture()
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test (NLTK-style downloads at run time included)."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return MODELS_DIR


@pytest.fixture(scope="session")
def docs(tmp_path_factory) -> dict[str, Path]:
    """One of each kind of test document, generated once per session."""
    d = tmp_path_factory.mktemp("docs")
    out = {
        "facts": docgen.simple_pdf(d / "facts.pdf", FACT_DOC_PAGES, title="Site Facts"),
        "two_column": docgen.two_column_pdf(
            d / "two-column.pdf",
            "Quarterly Review of the Northern Plant",
            ["Left one: the turbines were serviced in April.", "Left two: the generators passed their tests."],
            ["Right one: the budget grew by 4 percent.", "Right two: nine engineers were hired."],
        ),
        "table": docgen.table_pdf(
            d / "table.pdf",
            "Site output",
            [["Site", "Q1", "Q2"], ["Oslo", "12", "14"], ["Bergen", "7", "9"], ["Total", "19", "23"]],
        ),
        "merged": docgen.table_pdf(
            d / "merged.pdf",
            "Regional sales",
            [["Region", "Sales", ""], ["North", "10", "11"], ["", "12", "13"]],
            spans=[((1, 0), (2, 0)), ((0, 1), (0, 2))],
        ),
        "scan": docgen.scanned_pdf(
            d / "scan.pdf", [["ANNUAL SAFETY NOTE", "The fire drill happens every second Tuesday.", "Meet at the north gate."]]
        ),
        "image": docgen.page_image(d / "invoice.png", ["INVOICE 2291", "Total due: 4,310 EUR", "Payment within 30 days."]),
    }
    out["encrypted"] = docgen.encrypted_pdf(d / "encrypted.pdf", out["facts"])
    out["corrupt"] = docgen.corrupt_pdf(d / "corrupt.pdf", out["facts"])
    (d / "empty.pdf").write_bytes(b"")
    out["empty"] = d / "empty.pdf"
    (d / "clip.gif").write_bytes(b"GIF89a\x01\x00\x01\x00\x00\x00\x00" + bytes(range(32)))  # GIF is not read
    out["unsupported"] = d / "clip.gif"
    out["mislabeled"] = d / "picture.pdf"  # a PNG with a .pdf name (other content: the same would be a duplicate)
    docgen.text_image(["RECEIPT 77", "Paid in full."]).save(out["mislabeled"], "PNG")
    return out


@pytest.fixture(scope="session", autouse=True)
def own_model_versions(tmp_path_factory):
    """Tests never see (nor change) the model versions of the shared models dir: RAG_VERSIONS_DIR is their own,
    for this process and every server or CLI it starts."""
    folder = tmp_path_factory.mktemp("model-versions")
    before = os.environ.get("RAG_VERSIONS_DIR")
    os.environ["RAG_VERSIONS_DIR"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("RAG_VERSIONS_DIR", None)
    else:
        os.environ["RAG_VERSIONS_DIR"] = before


@pytest.fixture(scope="session")
def peft_adapter(tmp_path_factory):
    """A peft LoRA adapter on the 0.5B (seed 0, large random lora_B) with transformers' reference outputs."""
    pytest.importorskip("peft", reason="the adapter tests need peft: pip install 'grounded-rag[hf]'")
    from tests.helpers.lora import make_peft_adapter

    return make_peft_adapter(tmp_path_factory.mktemp("peft") / "adapter", MODELS_DIR, SMALL_MODEL)


# ---- the store on both backends: SQLite (a file) and PostgreSQL (a real server, started once per session) -----
@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server for the session (tests/helpers/postgres.py), started at the first test that asks for it
    and stopped at the end; skipped, naming the install step, where Debian's `postgresql` is not installed."""
    from tests.helpers.postgres import PostgresServer, binaries

    pytest.importorskip("psycopg", reason="the PostgreSQL store needs psycopg: pip install 'grounded-rag[postgres]'")
    bin_dir = binaries()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (initdb): run scripts/test-tools.sh (apt-get install postgresql)")
    server = PostgresServer(bin_dir).start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:
    """RAG_STORE__URL of an empty store on each backend: an SQLite file, or a fresh schema on the session's server."""
    if request.param == "sqlite":
        return f"sqlite://{tmp_path}/store.sqlite"
    return request.getfixturevalue("postgres").schema_url()


@pytest.fixture()
def make_store(store_url, tmp_path):
    """Opens the store of `store_url` (again, when called again: the same database); all are closed at the end."""
    from rag.store.database import open_database
    from rag.store.sql import SqlStore

    opened = []

    def make(**kw):
        store = SqlStore(open_database(store_url, tmp_path, **kw))
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


# ---- skips: counted at the end of every run; under CI=true only GPU tests may skip ---------------------------------
_SKIPPED: list[tuple[str, str]] = []


def pytest_runtest_logreport(report):
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _SKIPPED.append((report.nodeid, reason))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    from tests.helpers.skips import unexpected_skips

    terminalreporter.write_line(
        f"{len(_SKIPPED)} skipped: " + "; ".join(f"{t} ({r})" for t, r in _SKIPPED) if _SKIPPED else "0 skipped"
    )
    bad = unexpected_skips(_SKIPPED)
    if bad and os.environ.get("CI") == "true":
        terminalreporter.write_line(
            f"CI allows only GPU tests to skip; {len(bad)} others did: the test command must install what they need", red=True
        )


def pytest_sessionfinish(session, exitstatus):
    from tests.helpers.skips import unexpected_skips

    if os.environ.get("CI") == "true" and unexpected_skips(_SKIPPED) and session.exitstatus == 0:
        session.exitstatus = 1
