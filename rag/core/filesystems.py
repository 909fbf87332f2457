"""What kind of file system a path is on, and the refusal to keep an SQLite database on a network one.

SQLite's own documentation: its file locking is unreliable on network file systems, and WAL mode (the store's)
does not work there at all, since readers and the writer share memory that only one machine sees. Several
machines sharing one SQLite file over NFS therefore corrupt it. Every SQLite database of the service (the store,
the Huey queue, the vector cache) is checked when it is opened, and one on a network file system is refused with
what to do instead, rather than corrupted later.
"""

from pathlib import Path

from rag.core.errors import RagError

MOUNTINFO = Path("/proc/self/mountinfo")
# Linux file system types (as /proc/self/mountinfo names them) that are shared by several machines over a network.
NETWORK_FILESYSTEMS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "ncpfs",
        "afs",
        "ceph",
        "glusterfs",
        "fuse.glusterfs",
        "lustre",
        "gpfs",
        "beegfs",
        "davfs",
        "fuse.sshfs",
        "fuse.s3fs",
        "fuse.gcsfuse",
        "fuse.rclone",
        "fuse.juicefs",
    }
)


class NetworkFilesystem(RagError):
    """An SQLite database was asked for on a network file system."""

    status = 503


def _unescape(field: str) -> str:
    """mountinfo writes a space, tab, newline and backslash in a path as octal escapes (\\040)."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def filesystem_type(path: Path, mountinfo: str) -> tuple[str, str]:
    """(file system type, mount point) of the mount that holds `path` (an absolute, resolved path), from the text
    of /proc/self/mountinfo; ("", "") when no line covers it. The deepest mount point wins (the last one mounted
    there, when one is mounted over another)."""
    best = ("", "")
    text = str(path)
    for line in mountinfo.splitlines():
        fields = line.split()
        if " - " not in line or len(fields) < 5:
            continue
        mount = _unescape(fields[4])
        fstype = line.split(" - ", 1)[1].split()[0]
        inside = text == mount or text.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) >= len(best[1]):
            best = (fstype, mount)
    return best


def _existing(path: Path) -> Path:
    """The path itself, or its nearest ancestor that exists (a database file not created yet), resolved."""
    path = Path(path).absolute()
    while not path.exists() and path.parent != path:
        path = path.parent
    return path.resolve()


SHARED_STATE = (
    "Keep the data directory (RAG_DATA_DIR) on a local disk, and for several machines put the state in PostgreSQL "
    "(RAG_STORE__URL=postgresql://...) and the queue in Redis (RAG_JOBS__QUEUE=redis)"
)


def refuse_network_sqlite(path: Path, what: str, instead: str = SHARED_STATE) -> None:
    """Raise `NetworkFilesystem` when the SQLite database `path` (`what` it holds) would be on a network file
    system, saying what to do `instead`. Where the mount table cannot be read (not Linux), nothing is checked."""
    try:
        table = MOUNTINFO.read_text()
    except OSError:
        return
    fstype, mount = filesystem_type(_existing(path), table)
    if fstype in NETWORK_FILESYSTEMS:
        raise NetworkFilesystem(
            f"refusing to open the {what} at {path}: it is on a network file system ({fstype} mounted at {mount}), "
            "where SQLite's locking is unreliable and its WAL mode does not work, so writers on several machines "
            f"would corrupt it. {instead}"
        )
