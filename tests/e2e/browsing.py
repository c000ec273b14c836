"""What browser tests and the browser benchmarks share: where the site is, how to serve it
(scripts/serve.mjs, the one static server), where Chromium is, and a page that records
long tasks, foreign requests, CSP violations and page errors. (A plain module, not
conftest.py, so that scripts and tests import it by a name no other folder uses.)"""

import os
import subprocess
from contextlib import contextmanager
from pathlib import Path

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
    # Each new window of this Chromium (one per page) preloads the omnibox's suggestion
    # popup, a page of its own: about 0.8 s of processor per page opened, a quarter of
    # what opening the playground costs, for a popup a headless browser never shows.
    # Chromium reads only the last --disable-features and Playwright passes its own list
    # before ours, so ours repeats Playwright's (1.65; test_chromium_args.py checks that
    # none of it is lost).
    "--disable-features=" + ",".join([
        "WebUIOmniboxPopup", "WebUIOmniboxAimPopup", "WebUIOmniboxFullPopup",
        "AvoidUnnecessaryBeforeUnloadCheckSync", "DestroyProfileOnBrowserClose", "HttpsUpgrades",
        "HttpsFirstBalancedModeAutoEnable", "LensOverlay", "MediaRouter", "PaintHolding",
        "ThirdPartyStoragePartitioning", "AvoidCorsURLLoaderRestartOnRedirect",
        "TcpPortRandomizationWin", "OptimizationHints", "NetworkTimeServiceQuerying", "AimEnabled",
        "PreconnectToSearch", "msForceBrowserSignIn", "msEdgeUpdateLaunchServicesPreferredVersion",
    ]),
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
def serve(root, base=BASE_PATH, headers=True):
    """Serve the folder `root` under `base` with scripts/serve.mjs; yields the base URL.
    headers=False: no Content-Security-Policy header, as GitHub Pages serves."""
    proc = subprocess.Popen(
        ["node", str(ROOT / "scripts" / "serve.mjs"), "--port", "0", "--root", str(root),
         "--base", base, *([] if headers else ["--no-headers"])],
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
    """The full Chromium, as a visitor runs it."""
    candidates = (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", "/usr/bin/chromium-browser")
    return first_existing(candidates)


def headless_shell_path():
    """Chromium's headless shell (Debian's chromium-headless-shell, what Playwright runs
    headless by default): the same renderer without the browser's windows, for the tests
    that measure no time, where it measured about 10% cheaper (README, "How long it all
    takes"). Not for the timed tests: on a first visit, training right after the start made
    long tasks of 100-160 ms in 4 of 6 runs in it, in 1 of 6 in the full browser; and with
    the first visit made before them, a fresh clone's run failed in it (the one-minute
    recipe on the city names: [104, 91] ms). The full browser where the shell is not
    installed."""
    shell = os.environ.get("CHROMIUM_HEADLESS_SHELL_PATH") or "/usr/bin/chromium-headless-shell"
    return shell if Path(shell).exists() else chromium_path()


def first_existing(candidates):
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    return None  # Playwright's own browser, where it could be installed


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

    def assert_clean(self):
        """No request left the site's origin and no error went uncaught."""
        assert self.foreign == [], f"requests to other origins: {self.foreign}"
        assert self.errors == [], f"uncaught errors in the page: {self.errors}"

    def on_request(self, request):
        url = request.url
        if not (url.startswith(self.origin) or url.startswith(("data:", "blob:"))):
            self.foreign.append(url)


def new_context(browser, viewport=None, **context_options):
    context = browser.new_context(viewport=viewport or {"width": 1200, "height": 900},
                                  **context_options)
    context.add_init_script(LONG_TASKS_SCRIPT)
    return context


def watched_page(context, site):
    """A new page of `context` whose foreign requests and uncaught errors are recorded."""
    page = context.new_page()
    origin = site.split(BASE_PATH)[0]
    watch = PageWatch(origin)
    page.on("request", watch.on_request)
    page.on("pageerror", lambda error: watch.errors.append(str(error)))
    page.watch = watch
    watch.pages.append(page)
    return page


def new_page(browser, site, viewport=None, **context_options):
    """A page in a context of its own (a new visitor: empty storage, no service worker)."""
    context = new_context(browser, viewport, **context_options)
    return context, watched_page(context, site)


# Empties what a page of the site keeps between visits (its database, local storage), as
# a test that shares a context needs. The service worker and its copy of the site stay.
_CLEAR_STORAGE = """async () => {
    localStorage.clear();
    for (const { name } of await indexedDB.databases()) {
        await new Promise((ok, no) => {
            const request = indexedDB.deleteDatabase(name);
            request.onsuccess = ok;
            request.onerror = () => no(request.error);
            request.onblocked = () => no(new Error(`database ${name} is still open`));
        });
    }
    return (await indexedDB.databases()).length + localStorage.length;
}"""


def clear_storage(context, site, keeper=None):
    """Empty the site's storage in `context` (every page of it but `keeper` must be closed:
    an open database blocks its deletion), from `keeper` (see keep_site_process) or a
    page opened for it."""
    helper = keeper or context.new_page()
    try:
        if not keeper:
            helper.goto(site + "schema.json")  # a document of the site's origin with no code
        left = helper.evaluate(_CLEAR_STORAGE)
        assert left == 0, f"storage not emptied: {left} databases or keys left"
    finally:
        if not keeper:
            helper.close()


# With Chromium's --process-per-site (SHARED_PROCESS_ARGS), the pages of one site in one
# browser context share one renderer process while any of them is open, and with it V8's
# compiled WebAssembly: a page that starts Pyodide there reuses the machine code earlier
# pages compiled and optimized (V8 shares a compiled module between instances with the
# same bytes in one process) instead of compiling it again, which is most of what a start
# costs the machine (scripts/start_cost.py --shared-process). The pages still start
# Python, the site's code and its storage from scratch; they share a main thread, so only
# tests that measure no time run this way (tests/e2e/conftest.py).
SHARED_PROCESS_ARGS = ["--process-per-site"]

# Run in the page that keeps the process: holds a compiled Pyodide, so that the compiled
# code outlives the pages that use it (a closed page's module is garbage). Measured once
# with a collection forced between starts (`--js-flags=--expose-gc`): 0.93 s of processor
# per start with the module held, 2.18 s without.
_HOLD_PYODIDE = """async (url) => {
    window.__pyodideModule = await WebAssembly.compileStreaming(fetch(url));
}"""


def keep_site_process(context, site):
    """A page of the site (a document with no code) that stays open while the context is
    used, keeping the site's renderer process, and the Pyodide compiled in it, alive."""
    keeper = context.new_page()
    keeper.goto(site + "schema.json")
    keeper.evaluate(_HOLD_PYODIDE, site + "vendor/pyodide/pyodide.asm.wasm")
    return keeper


class SharedContext:
    """A browser context that tests share, its storage emptied before each test's page.
    With keep_process (in the shared-process browser), a page that keeps the site's
    process (keep_site_process) stays open from the first test to the last, and empties
    the storage."""

    def __init__(self, browser, site, keep_process, **context_options):
        self.context = new_context(browser, **context_options)
        self.site = site
        self.keeper = keep_site_process(self.context, site) if keep_process else None

    def clean_page(self):
        """A new page of the context, the site's storage emptied first (new_page, by
        contrast, makes a context of its own); every other page but the keeper must be
        closed (close_pages)."""
        clear_storage(self.context, self.site, self.keeper)
        return watched_page(self.context, self.site)

    def close_pages(self):
        for opened in self.context.pages:  # the test's page and any it opened
            if opened is not self.keeper:
                opened.close()
