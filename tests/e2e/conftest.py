"""Browser tests: the built dist/ served under a sub-path, driven in real Chromium.

Fixtures:
- `site`: base URL of dist/ served at /tinygpt/ (like GitHub Pages' /<repo>/), by the
  site's one static server (scripts/serve.mjs, as `npm start` serves it).
- `browser`: Chromium through Playwright (the system Chromium where Playwright cannot
  download its own, as on these machines), one of two: for a test marked `timed`,
  `visitor_browser`, the full browser, each page in a renderer process of its own as in
  a visitor's browser (cold code); for the others, `shared_process_browser`, Chromium's
  headless shell with the pages of one site in one context sharing a renderer process,
  and with it Pyodide's compiled code (browsing.SHARED_PROCESS_ARGS): a start there costs
  the machine about half as much.
- `page`: a new page that records long tasks, requests to other origins,
  Content-Security-Policy violations and uncaught page errors; a test fails if any
  foreign request, violation or page error happened. Pages share a browser context, its
  storage emptied before each test (the site's database, local storage): a page after
  the first then starts as a second visit does, from the service worker's copy of the
  site, which saves most of Pyodide's start. The tests that measure no time share one
  context (`shared_process_context`, per process), beside a page that keeps the site's
  process (browsing.keep_site_process); those marked `timed` share one (`timed_context`),
  whose first visit is made before them. A module or test whose subject is a first visit,
  the service worker or the context itself (test_offline, test_boot's first visit) is
  marked `fresh_context`: each such test gets a context of its own, as a new visitor has.
"""

import os
import subprocess
from pathlib import Path

import longtasks
import pageutil
import pytest
from browsing import (
    CHROMIUM_ARGS,
    DIST,
    ROOT,
    SCREENSHOTS,
    SHARED_PROCESS_ARGS,
    SharedContext,
    chromium_path,
    headless_shell_path,
    new_page,
    serve,
)
from playwright.sync_api import sync_playwright


@pytest.fixture(scope="session")
def site():
    if not (DIST / "index.html").exists():
        subprocess.run(["node", "scripts/build.mjs"], cwd=ROOT, check=True)
    with serve(DIST) as url:
        yield url


@pytest.fixture(scope="session")
def playwright_driver():
    with sync_playwright() as p:
        yield p


def launch(playwright, args, executable=None):
    return playwright.chromium.launch(executable_path=executable or chromium_path(), args=args)


@pytest.fixture(scope="session")
def visitor_browser(playwright_driver):
    """The full Chromium as a visitor's: each page a renderer process of its own, its code
    cold. (Not the headless shell: browsing.headless_shell_path.)"""
    browser = launch(playwright_driver, CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def shared_process_browser(playwright_driver):
    """Chromium's headless shell (browsing.headless_shell_path), its pages of one site in
    one context sharing a renderer process (browsing.SHARED_PROCESS_ARGS)."""
    browser = launch(playwright_driver, CHROMIUM_ARGS + SHARED_PROCESS_ARGS, headless_shell_path())
    yield browser
    browser.close()


@pytest.fixture
def browser(request):
    """The browser for this test: the visitor's for a test marked timed (what it measures
    must be what a visitor sees), the shared-process one for the others."""
    if is_timed(request):
        return request.getfixturevalue("visitor_browser")
    return request.getfixturevalue("shared_process_browser")


def is_timed(request):
    """Whether the test asking is marked `timed` (it runs alone, in the visitor's browser)."""
    return request.node.get_closest_marker("timed") is not None


@pytest.fixture
def timed_test(request):
    """is_timed, for fixtures of a test module that open pages of their own."""
    return is_timed(request)


def pytest_configure(config):
    config.addinivalue_line("markers", "fresh_context: each test gets a browser context of its own")
    config.addinivalue_line("markers", "timed: measures the page's time (long tasks, 'at once'):"
                            " runs alone, never beside another test (scripts/run_tests.sh)")


@pytest.fixture(autouse=True)
def timing_allowed(request):
    longtasks.timing_allowed = is_timed(request)
    yield
    longtasks.timing_allowed = True


# The modules that take longest, longest first (seconds, all in one process, the tests that
# measure no time, 2026-12-06: 57, 45, 28, 27, 25, 24, 24, 21, 14, 10, 10, 8, 6, 4). Those
# tests are spread a module per process, each process taking the next module when it is
# done (scripts/run_tests.sh: --dist loadfile --no-loadscope-reorder): taken in this order,
# the processes finish about together instead of one waiting for the other's last long
# module. Other modules follow in file order.
LONGEST_MODULES = [
    "test_reliability.py", "test_storage.py", "test_boot.py", "test_offline.py",
    "test_share.py", "test_bench_port.py", "test_lessons_page.py", "test_page.py",
    "test_runs.py", "test_microgpt_run.py", "test_exercises_page.py", "test_insides_page.py",
    "test_export_page.py", "test_untrusted_records.py",
]


def module_rank(item):
    name = item.path.name
    if item.path.parent != Path(__file__).parent or name not in LONGEST_MODULES:
        return len(LONGEST_MODULES)  # another folder's tests (tests/py) keep their place
    return LONGEST_MODULES.index(name)


def pytest_collection_modifyitems(items):
    items.sort(key=module_rank)  # stable: a module's tests keep their order
    # A browser test whose long-task check failed only because the machine stopped the
    # page's thread (longtasks.MachineStalled) runs once more; no other failure does.
    # Marked here rather than by a command-line option for every test: with the tests
    # spread over processes (pytest-xdist), the plugin asks the main process over a socket
    # before every test it may re-run, which cost the unit tests about 20 ms each.
    e2e = Path(__file__).parent
    for item in items:
        if e2e in item.path.parents:
            item.add_marker(pytest.mark.flaky(reruns=1, only_rerun=["MachineStalled"]))


@pytest.fixture(scope="session")
def shared_process_context(shared_process_browser, site):
    """The context of the tests that measure no time: one for all of them (in a process),
    so that only the first of its pages starts as a first visit."""
    shared = SharedContext(shared_process_browser, site, keep_process=True)
    yield shared
    shared.context.close()


@pytest.fixture(scope="session")
def timed_context(visitor_browser, site):
    """The context of the tests that measure time, each page in a renderer process of its
    own as in a visitor's browser. Its first visit is made here, before any test: the
    service worker then copies the whole site (14 MB) beside the page, which on two cores
    slows the page's first tasks past 50 ms and is no test's subject. The tests' pages
    then start as a visitor's second visit does, from the worker's copy."""
    shared = SharedContext(visitor_browser, site, keep_process=False)
    first = shared.clean_page()
    pageutil.open_playground(first, site, timeout=60_000)
    pageutil.wait_service_worker(first)
    first.close()
    first.watch.assert_clean()
    yield shared
    shared.context.close()


def wants_fresh_context(request):
    """A module marked fresh_context, or every test with TINYGPT_FRESH_CONTEXTS=1 set (to
    tell a test that depends on what ran before it from one that fails alone)."""
    return bool(request.node.get_closest_marker("fresh_context")
                or os.environ.get("TINYGPT_FRESH_CONTEXTS") == "1")


def shared_context(request):
    """The shared context of this test's `page` (conftest docstring)."""
    return request.getfixturevalue("timed_context" if is_timed(request) else
                                   "shared_process_context")


def open_test_page(request, browser, site):
    """A page for the test asking: (page, None), a page of its shared context with the
    site's storage emptied; or with fresh contexts (page, context), a context of its own."""
    if wants_fresh_context(request):
        context, page = new_page(browser, site)
        return page, context
    return shared_context(request).clean_page(), None


@pytest.fixture
def page(request, browser, site):
    page, own_context = open_test_page(request, browser, site)
    yield page
    longtasks.stop_trace()  # a long-task check the test began and did not end
    violations = page.watch.csp_violations()
    if own_context:
        own_context.close()
    else:
        shared_context(request).close_pages()
    page.watch.assert_clean()
    assert violations == [], f"Content-Security-Policy violations: {violations}"


@pytest.fixture
def empty_storage_page(request, page, browser, site):
    """Opens another page with nothing of the site's in its storage, after the test's own
    pages are closed: a page of the test's shared context once its storage is emptied, or
    with fresh contexts a page of a context of its own. The test checks its errors. (It
    asks for `page` so that the test's page is opened first and torn down after it.)"""
    contexts = []

    def open_page():
        if not wants_fresh_context(request):
            shared_context(request).close_pages()
        other, own_context = open_test_page(request, browser, site)
        if own_context:
            contexts.append(own_context)
        return other

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def screenshots():
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS

