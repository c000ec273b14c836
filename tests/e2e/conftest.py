"""Browser tests: the built dist/ served under a sub-path, driven in real Chromium.

Fixtures:
- `site`: base URL of dist/ served at /tinygpt/ (like GitHub Pages' /<repo>/), by the
  site's one static server (scripts/serve.mjs, as `npm start` serves it).
- `browser`: Chromium through Playwright (the system Chromium where Playwright cannot
  download its own, as on these machines).
- `page`: a new page that records long tasks, requests to other origins,
  Content-Security-Policy violations and uncaught page errors; a test fails if any
  foreign request, violation or page error happened. The pages of a test module share one
  browser context, its storage emptied before each test (the site's database, local
  storage): a page after the first then starts as a second visit does, from the service
  worker's copy of the site, which saves most of Pyodide's start. A module whose subject is
  a first visit, the service worker or the context itself (test_boot, test_offline) marks
  itself `pytestmark = pytest.mark.fresh_context`: each of its tests gets a context of
  its own, as a new visitor has.
"""

import os
import subprocess
from pathlib import Path

import pageutil
import pytest
from browsing import (
    CHROMIUM_ARGS,
    DIST,
    ROOT,
    SCREENSHOTS,
    chromium_path,
    clear_storage,
    new_context,
    new_page,
    serve,
    watched_page,
)
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


def pytest_configure(config):
    config.addinivalue_line("markers", "fresh_context: each test gets a browser context of its own")
    config.addinivalue_line("markers", "timed: measures the page's time (long tasks, 'at once'):"
                            " runs alone, never beside another test (scripts/run_tests.sh)")


@pytest.fixture(autouse=True)
def timing_allowed(request):
    pageutil.timing_allowed = request.node.get_closest_marker("timed") is not None
    yield
    pageutil.timing_allowed = True


def pytest_collection_modifyitems(items):
    # A browser test whose long-task check failed only because the machine stalled
    # (pageutil.MachineStalled) runs once more; no other failure does. Marked here rather
    # than by a command-line option for every test: with the tests spread over processes
    # (pytest-xdist), the plugin asks the main process over a socket before every test it
    # may re-run, which cost the unit tests about 20 ms each.
    e2e = Path(__file__).parent
    for item in items:
        if e2e in item.path.parents:
            item.add_marker(pytest.mark.flaky(reruns=1, only_rerun=["MachineStalled"]))


@pytest.fixture(scope="module")
def shared_context(browser):
    context = new_context(browser)
    yield context
    context.close()


def wants_fresh_context(request):
    """A module marked fresh_context, or every test with TINYGPT_FRESH_CONTEXTS=1 set (to
    tell a test that depends on what ran before it from one that fails alone)."""
    return bool(request.node.get_closest_marker("fresh_context")
                or os.environ.get("TINYGPT_FRESH_CONTEXTS") == "1")


@pytest.fixture
def page(request, browser, site):
    fresh = wants_fresh_context(request)
    if fresh:
        context, page = new_page(browser, site)
    else:
        context = request.getfixturevalue("shared_context")
        clear_storage(context, site)
        page = watched_page(context, site)
    yield page
    violations = page.watch.csp_violations()
    if fresh:
        context.close()
    else:
        for opened in context.pages:  # this test's page and any it opened
            opened.close()
    assert page.watch.foreign == [], f"requests to other origins: {page.watch.foreign}"
    assert page.watch.errors == [], f"uncaught errors in the page: {page.watch.errors}"
    assert violations == [], f"Content-Security-Policy violations: {violations}"


@pytest.fixture(scope="session")
def screenshots():
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS

