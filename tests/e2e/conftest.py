"""Browser tests: the built dist/ served under a sub-path, driven in real Chromium.

Fixtures:
- `site`: base URL of dist/ served at /tinygpt/ (like GitHub Pages' /<repo>/), by the
  site's one static server (scripts/serve.mjs, as `npm start` serves it).
- `browser`: Chromium through Playwright (the system Chromium where Playwright cannot
  download its own, as on these machines).
- `page`: a fresh context and page that records long tasks, requests to other origins,
  Content-Security-Policy violations and uncaught page errors; a test fails if any
  foreign request, violation or page error happened.
"""

import subprocess

import pytest
from browsing import CHROMIUM_ARGS, DIST, ROOT, SCREENSHOTS, chromium_path, new_page, serve
from playwright.sync_api import sync_playwright


@pytest.fixture(scope="session")
def site():
    if not (DIST / "index.html").exists():
        subprocess.run(["node", "scripts/build.mjs"], cwd=ROOT, check=True)
    with serve(DIST) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, site):
    context, page = new_page(browser, site)
    yield page
    violations = page.watch.csp_violations()
    context.close()
    assert page.watch.foreign == [], f"requests to other origins: {page.watch.foreign}"
    assert page.watch.errors == [], f"uncaught errors in the page: {page.watch.errors}"
    assert violations == [], f"Content-Security-Policy violations: {violations}"


@pytest.fixture(scope="session")
def screenshots():
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS

