"""A real PostgreSQL server for the tests: Debian's `postgresql` package (installed by scripts/test-tools.sh),
`initdb` and `pg_ctl` in a temporary directory on a free port, run as an unprivileged user (initdb refuses root:
as root, the user `rag-test-pg` is created for it), stopped at the end of the session (`tests/conftest.py`).

Each test gets a schema of its own in the one database (`schema_url`): creating one takes milliseconds, where a
database per test would copy a template each time. Durability is off (`fsync=off`): a test server loses nothing
it needs to keep when the machine does not crash.
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

USER = "rag-test-pg"


def binaries() -> Path | None:
    """The folder of `initdb` and `pg_ctl`: on PATH, else Debian's /usr/lib/postgresql/<major>/bin (newest)."""
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name or 0))
    return Path(folders[-1]) if folders and Path(folders[-1], "initdb").exists() else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_user() -> pwd.struct_passwd | None:
    """The unprivileged user to run the server as when we are root (created if missing); None: run as ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", USER],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(USER)


class PostgresServer:
    """One throw-away PostgreSQL cluster: `start()`, `schema_url()` per test, `stop()`."""

    def __init__(self, bin_dir: Path):
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="rag-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self.user = _server_user()
        if self.user is not None:
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        kw = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []} if self.user else {}
        env = dict(os.environ, LC_ALL="C", HOME=str(self.root))
        return subprocess.run(
            [str(self.bin / args[0]), *args[1:]], capture_output=True, text=True, timeout=timeout, env=env, cwd=self.root, **kw
        )

    def start(self, durable: bool = False) -> "PostgresServer":
        """initdb and start; `durable`: PostgreSQL's own defaults (fsync, synchronous commit), for measurements."""
        init = self._run("initdb", "-D", str(self.data), "-U", "rag", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
        if init.returncode:
            raise RuntimeError(f"initdb failed: {init.stderr.strip()}")
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=200"
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        started = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")
        if started.returncode:
            raise RuntimeError(f"pg_ctl start failed: {started.stderr.strip()} {self.log_tail()}")
        return self

    def log_tail(self) -> str:
        try:
            return self.log.read_text()[-2000:]
        except OSError:
            return ""

    @property
    def url(self) -> str:
        return f"postgresql://rag@127.0.0.1:{self.port}/postgres"

    def schema_url(self) -> str:
        """A new, empty schema, and the URL whose connections use it (search_path)."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
        return f"{self.url}?options=-csearch_path%3D{name}"

    def restart(self) -> None:
        """Stop the server (fast: open connections are cut) and start it again with the same options."""
        done = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", "fast", "-w", "-t", "60", "restart")
        if done.returncode:
            raise RuntimeError(f"pg_ctl restart failed: {done.stderr.strip()} {self.log_tail()}")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
