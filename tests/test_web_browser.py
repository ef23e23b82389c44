"""The web page in a real browser: Debian's Chromium driven by Playwright against the API
running under uvicorn on loopback (Celery eager, so an upload is analysed in the API process).
Sign in -> upload -> wait -> result -> highlighted citation -> question; a batch with live
progress and export; Thai labels; a wrong key refused."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import make_key
from tests.live import Stack

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(),
                                 reason="Debian's chromium is not installed (apt-get install "
                                        "chromium)")]

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run"]


@pytest.fixture
def server(db: None) -> Iterator[str]:
    stack = Stack()
    try:
        yield stack.start_api(dict(os.environ))
    finally:
        stack.stop()
        for process in stack.processes:  # shown by pytest only when the test failed
            print(f"--- {process.name} log ---\n{process.output()}")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=LAUNCH_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(locale="en-US")
    opened = context.new_page()
    opened.set_default_timeout(60_000)
    yield opened
    context.close()


def sign_in(page, server: str, key: str) -> None:
    page.goto(f"{server}/web")
    assert page.url.endswith("/web/login")
    page.fill("#api_key", key)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/web")


def test_upload_wait_result_highlighted_citation_and_question(server, page, samples_dir: Path):
    sign_in(page, server, make_key("acme"))
    page.set_input_files("#file-input", str(samples_dir / "services-agreement.pdf"))
    page.wait_for_url(re.compile(r".*/web/documents/[0-9a-f-]+$"), timeout=120_000)
    page.wait_for_selector("#document-status[data-status=done]", timeout=120_000)

    assert page.inner_text("#doc-type") == "contract"
    # key fields are shown with links to the pages they were found on
    fields = page.locator("[data-section='legal.fields']")
    assert "MASTER SERVICES AND SUPPLY AGREEMENT" in fields.inner_text()
    title_row = fields.locator("tr", has_text="MASTER SERVICES AND SUPPLY AGREEMENT")
    link = title_row.locator("a.cite").first
    assert link.inner_text().endswith("1")
    link.click()
    page.wait_for_url(re.compile(r".*/pages/1\?start=\d+&end=\d+#cited$"))
    assert page.inner_text("mark#cited") == "MASTER SERVICES AND SUPPLY AGREEMENT"
    page.go_back()

    page.wait_for_selector("#ask")
    page.fill("#question", "What is the governing law?")
    page.click("#ask button[type=submit]")
    page.wait_for_selector("#answer .answer, #answer .error", timeout=180_000)
    assert page.locator("#answer .answer").count() == 1, page.inner_text("#answer")
    answer = page.inner_text("#answer-text").strip()
    assert answer, page.inner_text("#answer")
    cites = page.locator("#answer a.cite")
    if cites.count():
        # the answer's citation opens the page with the quoted text highlighted
        quoted = cites.first.get_attribute("title")
        href = cites.first.get_attribute("href") or ""
        assert re.search(r"/pages/\d+\?start=\d+&end=\d+#cited$", href), href
        cites.first.click()
        page.wait_for_url(re.compile(r".*/pages/\d+\?start=\d+&end=\d+#cited$"))
        assert page.inner_text("mark#cited").split() == (quoted or "").split()
    else:
        # no model answered in this test run: the answer must say it found nothing
        assert "not" in answer.lower() or "ไม่" in answer, answer


def test_batch_upload_shows_live_progress_and_exports(server, page, samples_dir: Path,
                                                      tmp_path: Path):
    pdf = (samples_dir / "services-agreement.pdf").read_bytes()
    paths = []
    for i in range(3):
        path = tmp_path / f"deal-{i}.pdf"
        path.write_bytes(pdf + f"\n% copy {i}\n".encode())
        paths.append(str(path))
    sign_in(page, server, make_key("acme"))
    page.set_input_files("#file-input", paths)
    page.wait_for_url(re.compile(r".*/web/batches/[0-9a-f-]+$"), timeout=180_000)
    page.wait_for_function(
        "document.querySelector('#batch-status').textContent.trim() === 'done'",
        timeout=180_000)
    assert page.locator("#progress tbody tr").count() == 3
    with page.expect_download() as download:
        page.click("a[href$='format=csv']")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert [line.split(",")[1] for line in text.splitlines()[1:]] == [
        "deal-0.pdf", "deal-1.pdf", "deal-2.pdf"]

    # the home page fills its batch and document lists by separate requests, in either order
    page.goto(f"{server}/web")
    expect(page.locator("#batches tr[data-batch]")).to_have_count(1)
    expect(page.locator("#documents tr[data-document]")).to_have_count(3)


def test_thai_labels_and_a_refused_key(server, page):
    page.goto(f"{server}/web/login")
    page.click("a[data-lang=th]")
    assert page.inner_text("h1") == "เข้าสู่ระบบ"
    page.fill("#api_key", "llk_not_a_real_key")
    page.click("button[type=submit]")
    assert page.inner_text("[role=alert]") == "คีย์ API นี้ใช้ไม่ได้"
    assert page.url.endswith("/web/login")
