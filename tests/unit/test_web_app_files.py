"""The web app's files: served at / and /app/ with a same-origin Content-Security-Policy, nothing in them fetched
from elsewhere (works offline), and shipped as package data."""

import re
import tomllib
from pathlib import Path

from api.http.webapp import ASSETS, WEB
from tests.helpers.apps import client, make_app

ROOT = Path(__file__).resolve().parents[2]


def test_the_page_and_its_assets_are_served_with_a_same_origin_policy(tmp_path):
    app, _ = make_app(tmp_path, host="0.0.0.0")  # keys required: the page itself needs none, the API does
    c = client(app)
    page = c.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    for name, media in ASSETS.items():
        r = c.get(f"/app/{name}")
        assert r.status_code == 200 and r.headers["content-type"].startswith(media) and r.content == (WEB / name).read_bytes()
    missing = c.get("/app/../store.sqlite")
    assert missing.status_code == 404 and "detail" in missing.json()
    assert c.get("/app/secret.txt").json() == {"detail": "no web app file secret.txt"}
    assert c.get("/v1/info").status_code == 401


def test_nothing_is_fetched_from_another_origin():
    for path in WEB.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text, re.I), path.name  # no CDN, no font service
        assert "@import" not in text and "url(" not in text, path.name
    html = (WEB / "index.html").read_text(encoding="utf-8")
    assert sorted(re.findall(r'(?:src|href)="([^"]+)"', html)) == ["/app/app.css", "/app/app.js"]


def test_the_files_are_package_data():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["api.http"]
    shipped = {p.name for pattern in data for p in (ROOT / "api" / "http").glob(pattern)}
    assert shipped == {p.name for p in WEB.iterdir()} == {"index.html", *ASSETS}
