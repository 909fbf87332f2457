"""Access control: API keys (only their sha256 is stored), collection scopes, rights, rate limits, safe names.

A key is `rag_<id>_<secret>`; the store keeps its sha256, its rights (`read`, or `write` which includes read)
and the collections it may touch. `Principal` is who a request acts for: it narrows every query to the key's
collections and refuses anything else (`Forbidden`). `RateLimiter` is a token bucket per key, in memory.
"""

import hashlib
import ipaddress
import os
import re
import secrets
import threading
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from rag.core.errors import BadInput, Forbidden, NotFound, Unauthorized
from rag.core.types import Filters
from rag.store.protocol import Store

RIGHTS = ("read", "write")
_COLLECTION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_collection(name: str) -> str:
    """A collection name: letters, digits, `.`, `_`, `-`, at most 64 characters, not starting with a dot."""
    if not _COLLECTION.fullmatch(name or ""):
        raise BadInput(f"bad collection name {name!r}: use letters, digits, '.', '_', '-' (at most 64)")
    return name


@dataclass(frozen=True)
class Principal:
    """Who a request acts for. `collections` None means every collection (authentication is off)."""

    key_id: str | None = None
    rights: str = "write"
    collections: frozenset[str] | None = None

    @property
    def anonymous(self) -> bool:
        return self.key_id is None

    def check_read(self, collection: str) -> None:
        if self.collections is not None and collection not in self.collections:
            raise Forbidden(f"this API key may not read collection {collection!r}")

    def check_write(self, collection: str | None = None) -> None:
        """Write right, on `collection` when given (else on any of the key's collections)."""
        if self.rights != "write":
            raise Forbidden("this API key is read-only")
        if collection is not None and self.collections is not None and collection not in self.collections:
            raise Forbidden(f"this API key may not write to collection {collection!r}")

    def visible(self, collection: str | None = None) -> list[str] | None:
        """Collections a listing may show: the one asked for (if allowed), else all of the key's (None: all)."""
        if collection:
            self.check_read(collection)
            return [collection]
        return None if self.collections is None else sorted(self.collections)

    def scope(self, collection: str | None, filters: Filters | None) -> tuple[str | None, Filters]:
        """The query's collection and filters narrowed to this key: every collection named must be the key's;
        with none named, the search covers exactly the key's collections."""
        filters = filters or Filters()
        if self.collections is None:
            return collection, filters
        asked = {c for c in (collection, filters.collection) if c} | set(filters.collections)
        for name in sorted(asked):
            self.check_read(name)
        if not asked:
            filters = filters.model_copy(update={"collections": sorted(self.collections)})
        return collection, filters


ANYONE = Principal()


class KeyRing:
    """Create, list, revoke and check API keys (stored hashed in the SQLite store)."""

    def __init__(self, store: Store):
        self.store = store

    def create(self, collections: list[str], rights: str = "read", name: str = "") -> tuple[str, dict]:
        """A new key: returns (the secret token, shown only now; its record)."""
        if rights not in RIGHTS:
            raise BadInput(f"rights must be one of {', '.join(RIGHTS)}, got {rights!r}")
        if not collections:
            raise BadInput("a key needs at least one collection")
        collections = sorted({check_collection(c) for c in collections})
        key_id = secrets.token_hex(4)
        token = f"rag_{key_id}_{secrets.token_urlsafe(32)}"
        self.store.add_key(key_id, digest(token), rights, collections, name)
        return token, {"id": key_id, "rights": rights, "collections": collections, "name": name}

    def list(self) -> list[dict]:
        return self.store.keys()

    def revoke(self, key_id: str) -> None:
        if not self.store.revoke_key(key_id):
            raise NotFound(f"no live API key with id {key_id!r}")

    def authenticate(self, token: str) -> Principal:
        """The principal of a presented token; `Unauthorized` when it is unknown or revoked."""
        record = self.store.key_by_hash(digest(token.strip())) if token and len(token) < 200 else None
        if record is None:
            raise Unauthorized("invalid or revoked API key")
        return Principal(record["id"], record["rights"], frozenset(record["collections"]))


def auth_required(mode: str, host: str | None) -> bool:
    """`true`/`false` as set; `auto`: required unless the server binds a loopback address."""
    if mode in ("true", "false"):
        return mode == "true"
    if host is None:
        return True
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return True


class RateLimiter:
    """Token bucket per key: `per_min` requests a minute, bursts of up to `per_min`. 0 disables it."""

    def __init__(self, per_min: int, clock=time.monotonic):
        self.per_min = per_min
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one token: 0.0 when allowed, else the seconds until a token is available."""
        if self.per_min <= 0:
            return 0.0
        rate = self.per_min / 60.0
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.per_min), now))
            tokens = min(float(self.per_min), tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / rate


class AllowedRoots:
    """The server-side folders `POST /v1/documents` may name (`RAG_INGEST__ALLOWED_ROOTS`), checked when a path is
    named (API) and again when the worker opens it: a link swapped in between must not lead outside."""

    def __init__(self, roots):
        self.roots = [Path(r).resolve() for r in roots]

    def contains(self, real: Path) -> bool:
        return any(real == r or real.is_relative_to(r) for r in self.roots)

    def check_open(self, path: str) -> None:
        """Just before the worker reads a server-side file (stored as its real path when it was named): Forbidden
        if it is now a link, lies under a link, or leads outside the roots."""
        real = os.path.realpath(path)
        if real != os.path.abspath(path):
            raise Forbidden(f"{path} has become a link (to {real}) since it was named: refused")
        if not self.contains(Path(real)):
            raise Forbidden(f"{path} is outside the allowed roots")
        try:
            os.close(os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)))
        except OSError as exc:  # ELOOP: the last part became a link after the check above
            raise Forbidden(f"{path} cannot be opened without following a link: refused ({exc.strerror})") from exc


_UNSAFE = re.compile(r"[^\w.\- ()+,]")


def safe_filename(name: str | None, default: str = "upload") -> str:
    """A client's file name made safe to store: the last path component only (so `../../etc/passwd` becomes
    `passwd`), no control or shell characters, no leading dots, at most 120 characters."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").split("/")[-1]
    name = _UNSAFE.sub("_", "".join(ch for ch in name if ch.isprintable())).strip(" .")
    if len(name) > 120:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:110] + dot + ext[:9]) if dot and len(ext) < 10 else name[:120]
    return name or default
