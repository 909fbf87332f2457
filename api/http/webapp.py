"""The web app at `/`: one HTML page, one JavaScript module and one stylesheet shipped in this package
(`api/http/web/`), served by the API itself (same origin, no build step, nothing fetched from elsewhere).

A Content-Security-Policy keeps the page to its own origin: scripts, styles and API calls from here only, images
from here or from the blob URLs the viewer makes of page images it fetched with the API key."""

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import Response

from rag.core.errors import NotFound

WEB = Path(__file__).parent / "web"
ASSETS = {"app.js": "text/javascript", "app.css": "text/css"}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-cache",
}


def install_web_app(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    def index() -> Response:
        return _file("index.html", "text/html; charset=utf-8")

    @app.get("/app/{name}", include_in_schema=False)
    def asset(name: str) -> Response:
        if name not in ASSETS:
            raise NotFound(f"no web app file {name}")
        return _file(name, f"{ASSETS[name]}; charset=utf-8")


def _file(name: str, media_type: str) -> Response:
    return Response((WEB / name).read_bytes(), media_type=media_type, headers=HEADERS)
