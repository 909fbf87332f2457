"""End to end: a running server answers with the 0.5B; `rag finetune export` registers a peft adapter as a model
version, `rag models use` switches the running server to it (no restart: the next answer names it), and
`rag models rollback` switches back, while an answer already being streamed finishes on the model it began with."""

import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.helpers import docgen
from tests.helpers.apps import wait_ready
from tests.helpers.models import MODELS_DIR, SMALL_MODEL
from tests.helpers.servers import RAG, free_port

pytestmark = pytest.mark.slow
QUESTION = {"question": "What is the daily meal allowance on business trips?", "k": 2}


def env(versions: Path) -> dict:
    e = dict(
        os.environ,
        RAG_MODELS_DIR=str(MODELS_DIR),
        RAG_VERSIONS_DIR=str(versions),
        RAG_GENERATOR__MODEL=SMALL_MODEL,
        RAG_GENERATOR__MAX_TOKENS="64",
    )
    e.pop("RAG_GENERATOR__LORA_PATH", None)
    return e


def rag(data: Path, versions: Path, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([*RAG, "--data-dir", str(data), *args], capture_output=True, text=True, env=env(versions), timeout=600)
    assert done.returncode == 0, f"rag {args} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data, versions = tmp_path_factory.mktemp("mv-data"), tmp_path_factory.mktemp("mv-versions")
    pdf = docgen.simple_pdf(
        tmp_path_factory.mktemp("mv-docs") / "handbook.pdf",
        [("Travel", ["The daily meal allowance on business trips is 55 EUR within Europe."])],
        title="Staff Handbook",
    )
    rag(data, versions, "ingest", str(pdf))
    port = free_port()
    log = open(data.parent / f"{data.name}-server.log", "w")
    proc = subprocess.Popen(
        [*RAG, "--data-dir", str(data), "serve", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env(versions)
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(proc, base, log.name)
        with httpx.Client(base_url=base, timeout=300) as client:
            yield client, data, versions
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def ask(client) -> dict:
    r = client.post("/v1/ask", json=QUESTION)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] is not None, body  # the model wrote this answer (no refusal before generation)
    return body


def streamed(client, during=None) -> dict:
    """The final `answer` event of a streamed ask; `during()` runs once the first token has arrived."""
    final = None
    with client.stream("POST", "/v1/ask", json=dict(QUESTION, stream=True)) as r:
        assert r.status_code == 200
        event = None
        for line in r.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
                if event == "token" and during is not None:
                    during()
                    during = None
            elif line.startswith("data: ") and event == "answer":
                final = json.loads(line[6:])
    assert final is not None
    return final


def test_use_switches_the_running_server_and_rollback_switches_it_back(server, peft_adapter, tmp_path):
    client, data, versions = server
    first = ask(client)["model"]
    assert (first["version"], first["name"], first["adapter"]) == (SMALL_MODEL, SMALL_MODEL, None)
    assert client.get("/v1/info").json()["model_version"]["id"] == SMALL_MODEL

    card, report = tmp_path / "card.json", tmp_path / "report.json"
    card.write_text(json.dumps({"examples": 0, "source": "random test adapter"}))
    report.write_text(json.dumps({"accuracy": None}))
    done = rag(
        data,
        versions,
        "finetune",
        "export",
        str(peft_adapter.path),
        "--base",
        SMALL_MODEL,
        "--name",
        "e2e-lora",
        "--data-card",
        str(card),
        "--eval-report",
        str(report),
        "--json",
    )
    exported = json.loads(done.stdout)
    assert exported["id"] == "e2e-lora" and exported["current"] is False and exported["meta"]["pairs"] == 24 * 7
    assert sorted(p.name for p in (versions / "e2e-lora").iterdir()) == [
        "adapter.gguf",
        "data_card.json",
        "eval_report.json",
        "version.json",
    ]
    assert ask(client)["model"]["version"] == SMALL_MODEL  # registered, not used yet

    listed = rag(data, versions, "models", "list").stdout
    assert f"* {SMALL_MODEL}" in listed and "  e2e-lora" in listed

    rag(data, versions, "models", "use", "e2e-lora")
    tuned = ask(client)["model"]  # the same server process, no restart
    assert tuned["version"] == "e2e-lora" and tuned["adapter_sha256"] == exported["adapter_sha256"]
    assert tuned["name"] == SMALL_MODEL and tuned["sha256"] == first["sha256"]
    info = client.get("/v1/info").json()
    assert info["model_version"]["id"] == "e2e-lora" and info["model_version"]["adapter_sha256"] == exported["adapter_sha256"]
    assert "* e2e-lora" in rag(data, versions, "models", "list").stdout
    cli = rag(data, versions, "ask", QUESTION["question"], "-k", "2")
    assert "version e2e-lora" in cli.stderr and f"adapter {exported['adapter_sha256'][:12]}" in cli.stderr

    # an answer being streamed when the switch happens finishes on the model it started with
    final = streamed(client, during=lambda: rag(data, versions, "models", "rollback"))
    assert final["model"]["version"] == "e2e-lora"
    after = ask(client)["model"]
    assert (after["version"], after["adapter"]) == (SMALL_MODEL, None)
    assert streamed(client)["model"]["version"] == SMALL_MODEL
