"""Browser tests: the built dist/ served under a sub-path, driven in real Chromium.

Fixtures:
- `site`: base URL of dist/ served at /tinygpt/ (like GitHub Pages' /<repo>/).
- `browser`: Chromium through Playwright (the system Chromium where Playwright cannot
  download its own, as on these machines).
- `page`: a fresh context and page that records long tasks, requests to other origins
  and uncaught page errors; a test fails if any foreign request or page error happened.
"""

import functools
import http.server
import os
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
DIST = Path(os.environ.get("TINYGPT_DIST") or ROOT / "dist")  # as in scripts/build.mjs
SCREENSHOTS = Path(__file__).parent / "screenshots"
BASE_PATH = "/tinygpt/"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

# Installed before any page script: collects long tasks (>50 ms) for the tests.
LONG_TASKS_SCRIPT = """
window.__longTasks = [];
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      window.__longTasks.push({start: e.startTime, duration: e.duration});
  }).observe({type: 'longtask', buffered: true});
} catch (e) {}
"""


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".mjs": "text/javascript",
        ".js": "text/javascript",
        ".wasm": "application/wasm",
        ".webmanifest": "application/manifest+json",
    }

    def log_message(self, *args):  # keep test output readable
        pass


def chromium_path():
    candidates = (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", "/usr/bin/chromium-browser")
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    return None  # Playwright's own browser, where it could be installed


@pytest.fixture(scope="session")
def site():
    if not (DIST / "index.html").exists():
        subprocess.run(["node", "scripts/build.mjs"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        os.symlink(DIST, Path(tmp) / BASE_PATH.strip("/"))
        handler = functools.partial(Handler, directory=tmp)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{server.server_address[1]}{BASE_PATH}"
        server.shutdown()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class PageWatch:
    """What a page did that tests check after the fact."""

    def __init__(self, origin):
        self.origin = origin
        self.foreign = []
        self.errors = []

    def on_request(self, request):
        url = request.url
        if not (url.startswith(self.origin) or url.startswith(("data:", "blob:"))):
            self.foreign.append(url)


def new_page(browser, site, viewport=None):
    context = browser.new_context(viewport=viewport or {"width": 1200, "height": 900})
    context.add_init_script(LONG_TASKS_SCRIPT)
    page = context.new_page()
    origin = site.split(BASE_PATH)[0]
    watch = PageWatch(origin)
    page.on("request", watch.on_request)
    page.on("pageerror", lambda error: watch.errors.append(str(error)))
    page.watch = watch
    return context, page


@pytest.fixture
def page(browser, site):
    context, page = new_page(browser, site)
    yield page
    context.close()
    assert page.watch.foreign == [], f"requests to other origins: {page.watch.foreign}"
    assert page.watch.errors == [], f"uncaught errors in the page: {page.watch.errors}"


@pytest.fixture(scope="session")
def screenshots():
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS
