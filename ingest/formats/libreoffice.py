"""Legacy and OpenDocument files (DOC, PPT, XLS, RTF, ODT, ODP, ODS) converted by LibreOffice headless into the
OOXML equivalent (DOCX, PPTX, XLSX), which the OOXML readers then read.

Each conversion runs `soffice --headless --convert-to` in its own process group with a throw-away user profile
(so conversions never share or lock one, and nothing the user configured applies), with macros disabled by
that fresh profile's default security; one that runs past `TIMEOUT_S` is killed with its whole group and the file
fails with a one-line reason.
"""

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from rag.core.errors import CorruptFile, MissingExtra, TimedOut

TIMEOUT_S = 120
TARGETS = {"doc": "docx", "rtf": "docx", "odt": "docx", "ppt": "pptx", "odp": "pptx", "xls": "xlsx", "ods": "xlsx"}


def soffice() -> str:
    """The LibreOffice program, or a clear error naming what to install."""
    found = os.environ.get("RAG_SOFFICE") or shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        raise MissingExtra(
            "LibreOffice is needed for DOC, PPT, XLS, RTF and OpenDocument files: apt-get install libreoffice-core"
        )
    return found


def convert(path: Path, kind: str, workdir: Path, timeout: float = TIMEOUT_S) -> Path:
    """`path` (of `kind`) converted into `workdir`; returns the converted file."""
    target = TARGETS[kind]
    source = workdir / f"source.{kind}"  # the extension of what the content is, not what the name says
    shutil.copyfile(path, source)
    profile = Path(tempfile.mkdtemp(prefix="lo-profile-", dir=workdir))
    cmd = [
        soffice(),
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--nolockcheck",
        "--nodefault",
        "--convert-to",
        target,
        "--outdir",
        str(workdir),
        str(source),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise TimedOut(f"{path.name}: LibreOffice did not convert it within {timeout:g} s (killed)") from None
    converted = workdir / f"source.{target}"
    if proc.returncode != 0 or not converted.exists() or converted.stat().st_size == 0:
        detail = (out or b"").decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
        raise CorruptFile(f"{path.name}: LibreOffice could not read it as {kind.upper()} ({detail[0][:200]})")
    return converted
