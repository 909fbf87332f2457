"""docker-compose.yml's commands run as written outside Docker (no Docker engine here):
its volumes are mapped to local folders and its environment is applied."""

import os
import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import yaml

from tests.helpers.models import MODELS_DIR, ROOT
from tests.helpers.servers import free_port

pytestmark = pytest.mark.slow
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def local(service: str, data: Path) -> tuple[list[str], dict]:
    """The service's command and environment with container paths replaced by local ones."""
    spec = COMPOSE["services"][service]
    mounts = {"/data": str(data), "/models": str(MODELS_DIR)}
    for volume in spec.get("volumes", []):
        src, dst = volume.split(":")[:2]
        if src.startswith("./"):
            mounts[dst] = str(ROOT / src[2:])
    env = dict(os.environ)
    for key, value in spec["environment"].items():
        value = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: os.environ.get(m[1]) or m[2], value)  # ${VAR:-default}
        env[key] = mounts.get(value, value)
    command = [mounts.get(arg, arg) for arg in spec["command"]]
    assert command[0] == "rag"
    return [str(ROOT / ".venv" / "bin" / "rag"), *command[1:]], env


def test_every_service_shares_the_data_volume():
    for name, spec in COMPOSE["services"].items():
        if name != "redis":
            assert "ragdata:/data" in spec["volumes"], name
    assert COMPOSE["services"]["api-gpu"]["profiles"] == ["gpu"]


def test_redis_is_optional_and_wired_to_the_api_and_worker():
    assert COMPOSE["services"]["redis"]["profiles"] == ["redis"]
    for name in ("api", "worker", "api-gpu"):
        env = COMPOSE["services"][name]["environment"]
        assert env["RAG_JOBS__QUEUE"] == "${RAG_JOBS__QUEUE:-sqlite}", name  # SQLite unless asked for
        assert env["RAG_JOBS__REDIS_URL"] == "redis://redis:6379/0", name


def test_ingest_service_command_runs_as_written(tmp_path):
    command, env = local("ingest", tmp_path)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "files: 3 ok" in done.stdout


def test_api_service_command_serves(tmp_path):
    command, env = local("api", tmp_path)
    port = free_port()
    command[command.index("8000")] = str(port)  # the only change: a free port instead of 8000
    log = tmp_path / "api.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(command + ["--no-warm-up"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        for _ in range(120):
            assert proc.poll() is None, "api service exited:\n" + log.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        else:
            raise AssertionError("api service did not come up:\n" + log.read_text())
    finally:
        proc.terminate()
        proc.wait(timeout=20)
