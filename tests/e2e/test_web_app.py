"""The web app in a real browser: `rag serve` and `rag worker` as real processes, Debian's headless Chromium driven by
Selenium (its chromedriver; nothing is downloaded). Upload by drop and by the file chooser, follow the jobs, ask with
the answer streaming in, click the citation: the page image shows with the highlight over the chunk's box; the API's
own messages for an unsupported file, a file over the size limit, a revoked key and a server at capacity; keyboard
use and a phone-width screen.

With RAG_UI_SCREENSHOTS=DIR (the benchmark run: bench/out/ui) each step is saved there as a PNG."""

import base64
import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from rag.service.access import KeyRing
from rag.store.database import open_database
from rag.store.sql import SqlStore
from tests.helpers import docgen
from tests.helpers.apps import wait_ready
from tests.helpers.models import SMALL_MODEL
from tests.helpers.servers import RAG, env, free_port, worker

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
SHOTS = os.environ.get("RAG_UI_SCREENSHOTS")
QUESTION = "What is the daily meal allowance on business trips?"
MAX_UPLOAD_MB = 1


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("chromium and chromium-driver are not installed (scripts/test-tools.sh installs them)")
    data = tmp_path_factory.mktemp("web-data")
    ring = KeyRing(SqlStore(open_database("", data)))  # the data dir's own SQLite store
    keys = {"writer": ring.create(["hr"], "write")[0], "revoked": ring.create(["hr"], "read")}
    ring.revoke(keys["revoked"][1]["id"])
    keys["doomed"] = ring.create(["hr"], "read")
    port = free_port()
    environ = dict(
        env(),
        RAG_SERVING__MAX_CONCURRENT="1",
        RAG_SERVING__QUEUE_SIZE="0",
        RAG_MAX_UPLOAD_MB=str(MAX_UPLOAD_MB),
        RAG_GENERATOR__MODEL=SMALL_MODEL,  # the 0.5B: the UI is under test, not the answers (test_server.py runs the default)
        RAG_GENERATOR__MAX_TOKENS="64",
    )
    log = data.parent / "web-server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [*RAG, "--data-dir", str(data), "serve", "--port", str(port)], stdout=out, stderr=subprocess.STDOUT, env=environ
        )
    base = f"http://127.0.0.1:{port}"
    browser = None
    try:
        with worker(data, data.parent / "web-worker.log", environ=environ):
            browser = _browser()
            wait_ready(proc, base, log)
            with httpx.Client(base_url=base, timeout=120, headers={"Authorization": f"Bearer {keys['writer']}"}) as api:
                yield browser, base, api, keys, ring, tmp_path_factory.mktemp("web-docs")
    finally:
        if browser is not None:
            browser.quit()
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_script_timeout(30)
    return driver


def shot(driver, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(SHOTS) / f"{name}.png"))


def until(driver, condition, timeout: float = 60, what: str = ""):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: condition(d), message=what)


def by_css(driver, css: str):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, css)


def text_of(driver, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, element_id).text


def sign_in(driver, base: str, key: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(base + "/")
    driver.execute_script("sessionStorage.clear()")  # signed out: the key lives in this tab's session storage
    driver.refresh()
    until(driver, lambda d: d.find_element(By.ID, "sign-in").is_displayed(), 20, "the sign-in form")
    driver.find_element(By.ID, "key").send_keys(key)
    driver.find_element(By.CSS_SELECTOR, "#sign-in button[type=submit]").click()


def drop_file(driver, name: str, data: bytes) -> None:
    """A file dropped on the drop zone, as a browser's drag and drop delivers it."""
    driver.execute_script(
        """
        const [name, b64] = arguments;
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name));
        const drop = new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true});
        document.getElementById("drop").dispatchEvent(drop);
        """,
        name,
        base64.b64encode(data).decode(),
    )


def image_shown(driver) -> bool:
    return driver.execute_script("const i = document.getElementById('page-image'); return i.complete && i.naturalWidth > 0")


def answered(answer) -> bool:
    return bool(answer.get_attribute("data-refused") or answer.get_attribute("data-error"))


def upload_row(driver, name: str):
    rows = by_css(driver, f'#uploads li[data-file="{name}"] .status')
    return rows[0].text if rows else ""


def test_upload_ask_and_see_the_cited_region_highlighted(site):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver, base, api, keys, _, docs = site
    handbook = docgen.simple_pdf(
        docs / "handbook.pdf",
        [
            ("Working hours", ["Core working hours are from 10:00 to 15:00 on weekdays."]),
            ("Travel", ["The daily meal allowance on business trips is 55 EUR within Europe."]),
        ],
        title="Staff Handbook",
    )
    plants = docgen.simple_pdf(docs / "plants.pdf", [("Fjordvik", ["The Fjordvik hydro plant produced 455 GWh."])])
    scan = docgen.page_image(docs / "notice.png", ["SAFETY NOTICE", "Helmets are required in Hall 4 at all times."])

    sign_in(driver, base, keys["writer"])
    until(driver, lambda d: d.find_element(By.ID, "app").is_displayed(), 20, "the app after signing in")
    driver.find_element(By.ID, "upload-collection").clear()
    driver.find_element(By.ID, "upload-collection").send_keys("hr")
    driver.find_element(By.ID, "files").send_keys("\n".join(str(p) for p in (handbook, plants, scan)))
    until(driver, lambda d: len(by_css(d, "#uploads li")) == 3, 10, "a row per uploaded file")
    shot(driver, "1-uploading")
    for name in ("handbook.pdf", "plants.pdf", "notice.png"):
        done = f'#uploads li[data-file="{name}"][data-state="done"]'
        until(driver, lambda d, done=done: by_css(d, done), 240, f"{name}'s job done")
        assert upload_row(driver, name).startswith("ok"), upload_row(driver, name)
    until(driver, lambda d: len(by_css(d, "#documents tbody tr")) == 3, 10, "three documents listed")
    row = next(r for r in by_css(driver, "#documents tbody tr[data-doc]") if "handbook.pdf" in r.text)
    status, pages, chunks = [c.text for c in row.find_elements(By.CSS_SELECTOR, "td")[1:4]]
    assert (status, pages) == ("ok", "2") and int(chunks) > 0
    shot(driver, "2-documents")

    # ask: the answer streams in (token events before the answer), then its [n] become buttons
    question = driver.find_element(By.ID, "question")
    question.send_keys(QUESTION, Keys.ENTER)
    until(driver, lambda d: by_css(d, ".answer .cite"), 180, "a cited answer")
    answer = by_css(driver, ".answer")[0]
    assert "55" in answer.find_element(By.CSS_SELECTOR, ".text").text
    first_token_ms = answer.get_attribute("data-first-token-ms")
    assert first_token_ms and 0 < float(first_token_ms) < float(answer.get_attribute("data-answer-ms"))
    meta = answer.find_element(By.CSS_SELECTOR, ".meta").text
    assert SMALL_MODEL in meta and "first token" in meta and "total" in meta
    shot(driver, "3-answer")

    # the citation opens the cited page with the chunk's box over it, where the bbox says (scaled to the image)
    cite = answer.find_element(By.CSS_SELECTOR, ".cite")
    cite.click()
    until(driver, image_shown, 30, "the page image")
    until(driver, lambda d: by_css(d, "#overlay .box"), 10, "the highlight")
    assert (cite.get_attribute("data-doc"), cite.get_attribute("data-page")) == ("handbook.pdf", "2")
    doc_id = next(d["id"] for d in api.get("/v1/documents").json() if d["name"] == "handbook.pdf")
    pages = api.get(f"/v1/documents/{doc_id}/pages").json()["pages"]
    x0, y0, x1, y1 = json.loads(cite.get_attribute("data-bbox"))  # the citation's bbox, as the API sent it
    bx0, by0, bx1, by1 = _block_bbox(api.get(f"/v1/documents/{doc_id}").json()["html"], "55 EUR")
    assert x0 <= bx0 and y0 <= by0 and bx1 <= x1 and by1 <= y1  # the cited chunk holds the sentence's block
    img, box = driver.execute_script(
        "const r = (e) => e.getBoundingClientRect().toJSON();"
        "return [r(document.getElementById('page-image')), r(document.querySelector('#overlay .box'))]"
    )
    width, height = pages[1]["width"], pages[1]["height"]
    assert abs(box["left"] - (img["left"] + x0 / width * img["width"])) < 1.5
    assert abs(box["top"] - (img["top"] + y0 / height * img["height"])) < 1.5
    assert abs(box["width"] - (x1 - x0) / width * img["width"]) < 1.5
    assert abs(box["height"] - (y1 - y0) / height * img["height"]) < 1.5
    until(driver, lambda d: by_css(d, "#overlay .line"), 10, "the quote's line")
    line = driver.execute_script("return document.querySelector('#overlay .line').getBoundingClientRect().toJSON()")
    assert box["top"] - 3 <= line["top"] and line["bottom"] <= box["bottom"] + 3  # the quote's line is in the box
    assert "page 2 of 2" in text_of(driver, "viewer-title")
    shot(driver, "4-viewer")

    # keyboard: the close button has focus; arrows page through, Escape closes and gives focus back
    assert driver.switch_to.active_element.get_attribute("id") == "viewer-close"
    driver.switch_to.active_element.send_keys(Keys.ARROW_LEFT)
    until(driver, lambda d: "page 1 of 2" in text_of(d, "viewer-title"), 10, "page 1")
    until(driver, lambda d: d.find_element(By.ID, "page-image").get_attribute("data-page") == "1", 10)
    assert not by_css(driver, "#overlay .box")  # the highlight belongs to the cited page
    driver.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)
    until(driver, lambda d: by_css(d, "#overlay .box"), 10, "the highlight again on page 2")
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    until(driver, lambda d: not d.find_element(By.ID, "viewer").is_displayed(), 5)
    assert driver.switch_to.active_element.get_attribute("data-n") == cite.get_attribute("data-n")

    # a scan's page image, from the document's details
    scan_row = next(r for r in by_css(driver, "#documents tbody tr[data-doc]") if "notice.png" in r.text)
    scan_row.find_element(By.CSS_SELECTOR, ".doc-name").click()
    view = until(driver, lambda d: [b for b in by_css(d, ".detail button") if b.text == "View pages" and b.is_enabled()], 10)
    view[0].click()
    until(driver, image_shown, 30, "the page image")
    assert "notice.png · page 1 of 1" in text_of(driver, "viewer-title")
    shot(driver, "5-scan")
    driver.find_element(By.ID, "viewer-close").click()


def _block_bbox(html: str, text: str) -> list[float]:
    """The data-bbox of the layout HTML's block holding `text`."""
    import re

    for m in re.finditer(r'data-bbox="([^"]+)"[^>]*>([^<]*)', html):
        if text in m.group(2):
            return [float(v) for v in m.group(1).split(",")]
    raise AssertionError(f"no block holds {text!r}")


def test_bad_input_shows_the_apis_message(site):
    from selenium.webdriver.common.by import By

    driver, base, api, keys, ring, _ = site
    sign_in(driver, base, keys["revoked"][0])  # a revoked key: the API's 401 message, on the sign-in form
    until(driver, lambda d: "invalid or revoked API key" in text_of(d, "sign-in-error"), 10, "the revoked key's message")
    assert not driver.find_element(By.ID, "app").is_displayed()
    shot(driver, "6-revoked-key")

    sign_in(driver, base, keys["writer"])
    until(driver, lambda d: d.find_element(By.ID, "app").is_displayed(), 20, "the app after signing in")
    drop_file(driver, "notes.bin", b"\x00\x01\x02 not a document at all")
    until(driver, lambda d: upload_row(d, "notes.bin").startswith("refused"), 20, "the unsupported file's row")
    assert (
        upload_row(driver, "notes.bin")
        == "refused: "
        + api.post(
            "/v1/documents", files={"files": ("notes.bin", b"\x00\x01\x02 not a document at all")}, data={"collection": "hr"}
        ).json()["detail"]
    )
    assert "unsupported file type: notes.bin" in upload_row(driver, "notes.bin")
    drop_file(driver, "big.pdf", b"%PDF-1.4\n" + b"\0" * (MAX_UPLOAD_MB * 1024 * 1024 + 10))
    until(driver, lambda d: upload_row(d, "big.pdf").startswith("refused"), 30, "the too-large file's row")
    assert upload_row(driver, "big.pdf") == f"refused: big.pdf: larger than {MAX_UPLOAD_MB} MB"
    shot(driver, "7-refused-uploads")

    # the server at capacity: one generation runs (max_concurrent=1, no queue); the app's question gets the 503's message
    admitted = threading.Event()

    def hold_the_slot():
        with httpx.Client(base_url=base, timeout=120, headers=api.headers) as other:
            with other.stream("POST", "/v1/ask", json={"question": QUESTION, "stream": True}) as r:
                admitted.set()
                for _ in r.iter_lines():
                    if done.is_set():
                        return

    done = threading.Event()
    holder = threading.Thread(target=hold_the_slot, daemon=True)
    holder.start()
    assert admitted.wait(30)
    driver.find_element(By.CSS_SELECTOR, "input[name=mode][value=extract]").click()
    driver.find_element(By.ID, "question").send_keys("How long are the core working hours?")
    driver.find_element(By.ID, "ask-button").click()
    until(driver, lambda d: by_css(d, '.answer[data-error="503"]'), 30, "the 503 shown")
    message = by_css(driver, ".answer .text")[0].text
    assert "busy" in message.lower() and "retry in" in message, message
    shot(driver, "8-busy")
    done.set()
    holder.join(60)

    # extract mode once the slot is free: verbatim quotes, no model text, its citation clickable
    deadline = time.time() + 60
    while True:
        driver.find_element(By.ID, "ask-button").click()
        until(driver, lambda d: answered(by_css(d, ".answer")[0]), 60, "the extract-mode answer")
        if by_css(driver, ".answer")[0].get_attribute("data-error") != "503" or time.time() > deadline:
            break
        time.sleep(1)
    latest = by_css(driver, ".answer")[0]
    assert "10:00 to 15:00" in latest.find_element(By.CSS_SELECTOR, ".text").text
    assert "extract mode" in latest.find_element(By.CSS_SELECTOR, ".meta").text

    # a question the documents do not answer: the refusal, with the closest passages to open
    driver.find_element(By.ID, "question").send_keys("What is the airspeed velocity of an unladen swallow?")
    driver.find_element(By.ID, "ask-button").click()
    closest = until(driver, lambda d: by_css(d, '.answer[data-refused="true"] .closest li button'), 60, "the closest passages")
    assert by_css(driver, ".answer .text")[0].text.startswith("Not found in the documents")
    closest[0].click()
    until(driver, image_shown, 30, "a closest passage's page")
    driver.find_element(By.ID, "viewer-close").click()

    # a key revoked while signed in: the next call shows the sign-in form with the API's message
    sign_in(driver, base, keys["doomed"][0])
    until(driver, lambda d: d.find_element(By.ID, "app").is_displayed(), 20)
    ring.revoke(keys["doomed"][1]["id"])
    driver.find_element(By.ID, "question").send_keys("Anything?")
    driver.find_element(By.ID, "ask-button").click()
    until(driver, lambda d: "invalid or revoked API key" in text_of(d, "sign-in-error"), 10, "the sign-in form again")


def test_a_phone_width_screen_fits_and_the_viewer_fills_it(site):
    from selenium.webdriver.common.by import By

    driver, base, _, keys, _, _ = site
    driver.set_window_size(390, 844)
    try:
        sign_in(driver, base, keys["writer"])
        until(driver, lambda d: d.find_element(By.ID, "app").is_displayed(), 20)
        until(driver, lambda d: by_css(d, "#documents tbody tr[data-doc]"), 10)
        assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
        row = next(r for r in by_css(driver, "#documents tbody tr[data-doc]") if "handbook.pdf" in r.text)
        row.find_element(By.CSS_SELECTOR, ".doc-name").click()
        view = until(driver, lambda d: [b for b in by_css(d, ".detail button") if b.text == "View pages" and b.is_enabled()], 10)
        view[0].click()
        until(driver, image_shown, 30, "the page image")
        viewer = driver.execute_script("return document.getElementById('viewer').getBoundingClientRect().toJSON()")
        assert abs(viewer["width"] - driver.execute_script("return window.innerWidth")) <= 1
        shot(driver, "9-phone-viewer")
    finally:
        driver.set_window_size(1280, 900)
