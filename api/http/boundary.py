"""The browser's trust boundary: which Host names the API answers to, and which pages may change its state.

- **Host.** A web page can point a name it owns at 127.0.0.1 (DNS rebinding) and then read the API as its own
  origin. Only the configured names are answered (`RAG_HTTP__ALLOWED_HOSTS`; by default the loopback names and the
  bound address when API keys are not required); any other Host gets 421.
- **Origin.** A page on any origin can make the browser POST a form (a "simple" request: no preflight). A
  state-changing request (POST, PUT, PATCH, DELETE) whose `Origin`, or else `Referer`, is neither the server's own
  (the scheme and Host of the request) nor in `RAG_HTTP__ALLOWED_ORIGINS` is refused with 403. Requests carrying
  neither header (curl, scripts, the CLI) are not browsers' and pass.
"""

import ipaddress
from urllib.parse import urlsplit

from starlette.datastructures import Headers

from api.http.errors import error_response
from rag.core.settings import HttpSettings

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")
ANY = "*"


def allowed_hosts(cfg: HttpSettings, bound: str | None, keys_required: bool) -> frozenset[str] | None:
    """The host names answered (lower case, no port, IPv6 without brackets); None: any."""
    names = [h.strip().lower().strip("[]") for h in cfg.allowed_hosts]
    if ANY in names or (not names and keys_required):
        return None
    if not names:
        names = [*LOOPBACK_NAMES, *([bound.strip("[]").lower()] if bound and not _wildcard(bound) else [])]
    return frozenset(names)


def _wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def host_name(host_header: str) -> str:
    """`example.org:8000` -> `example.org`; `[::1]:8000` -> `::1`."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of a URL (an Origin header is one already); "" when it has none (`null`)."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


class TrustBoundary:
    """Pure ASGI: the Host check on every request, the Origin check on state-changing ones."""

    def __init__(self, app, hosts: frozenset[str] | None, origins: list[str]):
        self.app = app
        self.hosts = hosts
        self.origins = frozenset(origin_of(o) for o in origins if origin_of(o))

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        if self.hosts is not None and host_name(host) not in self.hosts:
            refusal = error_response(421, f"host {host!r} is not served here (RAG_HTTP__ALLOWED_HOSTS)")
            return await refusal(scope, receive, send)
        if scope["method"] not in SAFE_METHODS:
            sent = headers.get("origin") or headers.get("referer")
            own = f"{scope.get('scheme', 'http')}://{host}".lower()
            if sent is not None and origin_of(sent) not in {own, *self.origins}:
                refusal = error_response(
                    403, f"cross-origin request refused: {origin_of(sent) or sent!r} is not allowed (RAG_HTTP__ALLOWED_ORIGINS)"
                )
                return await refusal(scope, receive, send)
        return await self.app(scope, receive, send)
