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

import os
import subprocess
from contextlib import contextmanager
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

# Installed before any page script: collects long tasks (>50 ms) and CSP violations.
LONG_TASKS_SCRIPT = """
window.__longTasks = [];
window.__cspViolations = [];
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      window.__longTasks.push({start: e.startTime, duration: e.duration});
  }).observe({type: 'longtask', buffered: true});
} catch (e) {}
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(
    `${e.violatedDirective}: ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@contextmanager
def serve(root, base=BASE_PATH):
    """Serve the folder `root` under `base` with scripts/serve.mjs; yields the base URL."""
    proc = subprocess.Popen(
        ["node", str(ROOT / "scripts" / "serve.mjs"), "--port", "0", "--root", str(root),
         "--base", base],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        line = proc.stdout.readline()
        assert "served at" in line, f"the server did not start: {line!r}"
        yield line.split("served at ")[1].split()[0]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


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
    with serve(DIST) as url:
        yield url


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
        self.pages = []

    def csp_violations(self):
        found = []
        for page in self.pages:
            try:
                found += page.evaluate("window.__cspViolations || []")
            except Exception:  # a closed page or a page mid-navigation: nothing to read
                pass
        return found

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
    watch.pages.append(page)
    return context, page


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
