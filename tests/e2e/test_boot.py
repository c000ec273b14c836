"""How the pages start: what a first visit downloads, the trimmed standard library (every
module the site imports is in it; a lesson cell can still import the rest), workers that
run under the page's Content-Security-Policy where no server sends one, and a page whose
code fails to start says so."""

import gzip
import importlib.util
import re
import zipfile
from contextlib import contextmanager
from html import unescape
from pathlib import Path

import pytest
from browsing import DIST, ROOT, SharedContext, new_page, serve
from elsewhere import elsewhere
from pageutil import error_text, open_lessons, open_playground, wait_error

READY = "[data-testid=status][data-state=ready]"
FIRST_VISIT_GZIP_BYTES = 4_500_000  # the budget for the playground's first visit (README)

REQUESTED = """() => [location.href, ...performance.getEntriesByType('resource').map((e) => e.name)]
    .map((url) => url.split(/[?#]/)[0])"""


def dist_file(site, url):
    relative = url[len(site):] or "index.html"
    return DIST / (relative + "index.html" if relative.endswith("/") else relative)


# --- what a first visit downloads -----------------------------------------------------------
@pytest.mark.fresh_context  # a new visitor (conftest.py)
def test_a_first_visit_downloads_only_what_the_playground_starts_with(page, site):
    open_playground(page, site)
    urls = [u for u in page.evaluate(REQUESTED) if u.startswith(site)]
    names = [u[len(site):] for u in urls]
    # One archive of the package (not the lessons' one), the small standard library, no
    # PyScript, no lessons.
    assert names.count("py/tinygpt.zip") == 1
    assert [n for n in names if n.startswith("py/")] == ["py/tinygpt.zip"]
    with zipfile.ZipFile(DIST / "py" / "tinygpt.zip") as z:
        shipped = set(z.namelist())
    with zipfile.ZipFile(DIST / "py" / "tinygpt-lessons.zip") as z:
        lessons_only = set(z.namelist())
    assert {"tinygpt/lessons.py", "tinygpt/exercises/__init__.py", "tinygpt/__main__.py",
            "tinygpt/bench.py"} <= lessons_only and not shipped & lessons_only
    assert {"tinygpt/web.py", "tinygpt/export.py", "tinygpt/pytorch/train.py"} <= shipped
    stdlib = [n for n in names if "python_stdlib" in n]
    assert stdlib == ["vendor/pyodide/python_stdlib.zip"], stdlib
    assert not [n for n in names if "pyscript" in n or "codemirror" in n or "lessons" in n]
    # Pyodide's files are asked for with the page's first requests (preloaded), not after
    # the page's own modules: before any module main.js imports.
    starts = page.evaluate("""() => Object.fromEntries(performance.getEntriesByType('resource')
        .map((e) => [e.name.split('/tinygpt/')[1], e.startTime]))""")
    for file in ("vendor/pyodide/pyodide.asm.wasm", "vendor/pyodide/pyodide.asm.mjs",
                 "py/tinygpt.zip"):
        assert starts[file] <= starts["app/dom.js"], (file, starts)
    total = sum(len(gzip.compress(dist_file(site, u).read_bytes(), 6)) for u in set(urls))
    print(f"first visit: {len(set(urls))} files, {total / 1e6:.2f} MB as gzip sends them")
    assert total <= FIRST_VISIT_GZIP_BYTES


# --- the trimmed standard library -------------------------------------------------------------
# The build's own reading of the package (scripts/python_archives.py, plain Python): which
# files a page may import and what each imports. What is checked here is the other half:
# that a Pyodide started with only the trimmed library really imports all of it.
_spec = importlib.util.spec_from_file_location(
    "python_archives", ROOT / "scripts" / "python_archives.py")
python_archives = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(python_archives)


def site_imports():
    """Every module the pages' Python and the lessons' cells import: the package's modules
    (but the command line, the benchmarks' and the PyTorch project it hands out, which no
    page starts with), what they import, what the cells import, and what the pages'
    JavaScript imports (`pyodide.pyimport`), found here by CPython's own reading."""
    package = ROOT / "py" / "tinygpt"
    names = set(python_archives.package_imports(package))
    names |= {python_archives.module_name(file, package)
              for file in python_archives.page_modules(package)}
    html = (ROOT / "lessons.html").read_text(encoding="utf-8")
    for cell in re.findall(r'<pre class="(?:cell|exercise)-source">(.*?)</pre>', html, re.S):
        names |= python_archives.imported_names(unescape(cell))
    for script in (ROOT / "app").rglob("*.js"):
        names |= set(re.findall(r'pyimport\("([\w.]+)"\)', script.read_text(encoding="utf-8")))
    return sorted(n for n in names if n.partition(".")[0] not in {"torch", "js", "pyodide"})


# In a page of the site, a Pyodide started as the pages start theirs (python-package.js),
# with the standard library they start with and nothing else: which names fail to import,
# and what each module of the package was imported from.
IMPORT_ALL = """async ([names, compiled]) => {
    const { startPython } = await import("./app/python-package.js");
    const pyodide = await startPython(new URL("./", location.href), { compiled, lessons: true });
    pyodide.globals.set("names", pyodide.toPy(names));
    return JSON.parse(pyodide.runPython(`
import importlib, importlib.util, json, sys
failed = []
for name in names:
    try:
        importlib.import_module(name)
    except ImportError as error:
        failed.append(f"{name}: {error}")
try:
    import xml.dom  # not one the site imports: not in the archive
    failed.append("xml.dom imported: the archive is not trimmed")
except ImportError:
    pass
# What each module of the package was imported from: "bytecode" when the .pyc Python
# looks for beside it is one this Python loads as it is (its magic number, checked
# against the source's hash, which matches), "source" when there is none.
def loaded_from(module):
    try:
        with open(module.__spec__.cached, "rb") as f:
            pyc = f.read(16)
    except OSError:
        return "source"
    with open(module.__file__, "rb") as f:
        source_hash = importlib.util.source_hash(f.read())
    if pyc[:4] != importlib.util.MAGIC_NUMBER:
        return "bytecode of another Python"
    if int.from_bytes(pyc[4:8], "little") != 0b11:
        return "bytecode not checked against its source's hash"
    return "bytecode" if pyc[8:16] == source_hash else "bytecode of another source"
json.dumps([failed, {name: loaded_from(m) for name, m in sys.modules.items()
                     if name == "tinygpt" or name.startswith("tinygpt.")}])`));
}"""


@pytest.mark.parametrize("compiled", [False, True], ids=["source", "compiled"])
def test_the_started_standard_library_has_every_module_the_site_imports(page, site, compiled):
    names = site_imports()
    assert {"json", "zipfile", "tinygpt.web", "tinygpt.lessons", "tinygpt.data"} <= set(names)
    page.goto(site + "schema.json")  # a document at the site's root, with no Python of its own
    failed, loaded = page.evaluate(IMPORT_ALL, [[n for n in names if n != "tinygpt.web"], compiled])
    assert failed == [], failed
    # The package's bytecode comes with the compiled standard library (py/tinygpt.bytecode.zip),
    # not with a first visit's source (its archive has none); the lessons' archive has its own.
    with zipfile.ZipFile(DIST / "py" / "tinygpt-lessons.zip") as z:
        lessons = {python_archives.module_name(Path(n), Path("tinygpt"))
                   for n in z.namelist() if n.endswith(".py")}
    assert {"tinygpt.session", "tinygpt.lessons", "tinygpt.exercises.train"} <= set(loaded)
    for name, how in loaded.items():
        assert how == ("bytecode" if compiled or name in lessons else "source"), (name, how)


def run_cell(page, code, view="tokens"):
    box = page.locator(f"[data-view={view}] [data-testid=code-cell]").first
    box.evaluate("(el, code) => el.editor.dispatch({changes: {from: 0, "
                 "to: el.editor.state.doc.length, insert: code}})", code)
    box.locator("[data-testid=run]").click()
    page.wait_for_function(
        "el => ['done', 'error', 'stopped'].includes(el.dataset.state)",
        arg=box.element_handle(), timeout=90_000,
    )
    return box.get_attribute("data-state"), box.locator("[data-testid=cell-output]").text_content()


def test_a_cell_can_import_what_the_pages_do_not_start_with(page, site):
    open_lessons(page, site, "tokens", timeout=90_000)
    state, output = run_cell(page, "import sys\nprint('xml' in sys.modules)")
    assert (state, output.strip()) == ("done", "False")
    # The rest of the standard library is fetched once, then imports work as anywhere.
    state, output = run_cell(page, (
        "import xml.dom.minidom, json.tool, difflib\n"
        "print(xml.dom.minidom.parseString('<a>hi</a>').documentElement.tagName,"
        " difflib.get_close_matches('emma', ['ema', 'noah']))"
    ))
    assert (state, output.strip()) == ("done", "a ['ema']"), output
    # Names that are not in Python's standard library fail as they would anywhere.
    state, output = run_cell(page, "import numpy")
    assert state == "error" and "No module named 'numpy'" in output


# --- workers under the page's policy, where no server sends one --------------------------------
@pytest.fixture(scope="module")
def bare_site():
    """The site served as GitHub Pages serves it: no Content-Security-Policy header."""
    with serve(DIST, headers=False) as url:
        yield url


# Reaches another origin from a worker's code: a synchronous request (a lesson cell waits
# for nothing else), answered "sent <status>" or "refused".
REACH = """import js
request = js.XMLHttpRequest.new()
request.open("GET", "{url}", False)
try:
    request.send()
    print("sent", request.status)
except Exception:
    print("refused")
"""

# The lessons' worker started the old way, from its script's URL (with no header, it
# gets no policy): runs `code` there and answers what it printed.
RUN_IN_DIRECT_WORKER = """async (code) => {
    const worker = new Worker("./app/lessons/python-worker.js", { type: "module" });
    const out = [];
    const done = new Promise((resolve, reject) => {
        worker.onmessage = ({ data }) => {
            if (data.type === "failed") reject(new Error(data.message));
            if (data.type === "out") out.push(data.text);
            if (data.type === "done") resolve();
        };
        worker.onerror = (event) => reject(new Error(event.message));
    });
    worker.postMessage({ id: 1, type: "run", code, scope: "probe" });
    await done;
    worker.terminate();
    return out.join("");
}"""

# Every worker the page starts, by the URL it was started from.
RECORD_WORKERS = """
window.__workerUrls = [];
const PageWorker = window.Worker;
window.Worker = class extends PageWorker {
  constructor(url, options) {
    window.__workerUrls.push(String(url));
    super(url, options);
  }
};
"""


def test_a_lesson_cell_cannot_reach_another_origin_on_a_first_visit(browser, bare_site):
    with elsewhere() as (away, hits):
        # A first visit, before any service worker (which adds the header) is there.
        context, page = new_page(browser, bare_site, service_workers="block")
        try:
            open_lessons(page, bare_site, "tokens", timeout=90_000)
            headers = page.evaluate("fetch('app/lessons/python-worker.js').then((r) => "
                                    "[...r.headers.keys()])")
            assert "content-security-policy" not in headers  # as GitHub Pages serves it
            # The attack lands where the worker is started from its script's URL...
            printed = page.evaluate(RUN_IN_DIRECT_WORKER, REACH.format(url=away + "direct"))
            assert printed.strip() == "sent 200" and hits == ["/direct"], (printed, hits)
            # ...and not from the page's own cells, whose worker has the page's policy.
            state, output = run_cell(page, REACH.format(url=away + "from-a-cell"))
            assert state == "done" and output.strip() == "refused", output
        finally:
            context.close()
    assert hits == ["/direct"], f"a cell reached another origin: {hits}"
    assert page.watch.errors == []


def test_the_playground_starts_its_model_file_worker_under_its_policy(browser, bare_site):
    context, page = new_page(browser, bare_site, service_workers="block")
    context.add_init_script(RECORD_WORKERS)
    try:
        open_playground(page, bare_site)
        # A file that is no model: the worker reads it, then Python says what is wrong.
        page.set_input_files("[data-testid=open-model-file]", files=[
            {"name": "model.json", "mimeType": "application/json", "buffer": b'{"format": 1}'}])
        text = wait_error(page, "cannot be opened")
        urls = page.evaluate("window.__workerUrls")
    finally:
        context.close()
    assert "model" in text.lower()
    assert urls and all(u.startswith("blob:") for u in urls), urls
    assert page.watch.errors == []


# --- a page that fails to start says so ---------------------------------------------------------
# WebKitGTK under LANG=C reports the language "C", which Intl rejects.
C_LOCALE = """
Object.defineProperty(Navigator.prototype, 'language', { get: () => 'C' });
Object.defineProperty(Navigator.prototype, 'languages', { get: () => ['C'] });
"""


def test_a_language_intl_rejects_still_starts_the_playground(page, site):
    page.add_init_script(C_LOCALE)
    page.goto(site)
    rejected = page.evaluate("""() => {
        try { new Intl.NumberFormat(navigator.language); return false; } catch { return true; }
    }""")
    assert page.evaluate("navigator.language") == "C" and rejected  # the trouble is real
    page.wait_for_selector(READY, timeout=60_000)
    assert page.locator("[data-testid=loss-chart] .uplot").count() == 1  # the chart is drawn
    assert error_text(page) == ""


def wait_for_failure(page, timeout=30_000):
    page.wait_for_function(
        "() => { const box = document.querySelector('[data-testid=error]');"
        " return box && !box.hidden && box.textContent.includes('could not start'); }",
        timeout=timeout,
    )
    return error_text(page)


@pytest.fixture(scope="module")
def no_worker_context(shared_process_browser, site):
    """A context with no service worker, whose copy of the site would answer before
    page.route can; shared by the tests below as the tests that measure no time share
    theirs (conftest.SharedContext: storage emptied before each page, Pyodide kept
    compiled)."""
    shared = SharedContext(shared_process_browser, site, keep_process=True,
                           service_workers="block")
    yield shared
    shared.context.close()


@contextmanager
def failing_page(shared, path, handler):
    """A page, with no service worker and empty storage, whose requests for `path`
    `handler` answers; closed after."""
    page = shared.clean_page()
    page.route(f"**{path}", handler)
    try:
        yield page
    finally:
        shared.close_pages()


def not_found(route):
    route.fulfill(status=404, content_type="text/plain", body="Not found")


# A request that fails, or a file the server does not have (404): the whole module graph
# of the page fails. (tests/browsers checks a missing module in Firefox and WebKit too.)
@pytest.mark.parametrize("path,answer", [
    ("app/main.js", lambda route: route.abort()),
    ("vendor/uplot/uPlot.esm.js", lambda route: route.abort()),
    ("app/dom.js", lambda route: route.abort()),
    ("app/chart.js", not_found),
], ids=["main.js failed", "uPlot failed", "dom.js failed", "chart.js missing"])
def test_a_playground_whose_code_fails_to_load_says_so(no_worker_context, site, path, answer):
    with failing_page(no_worker_context, path, answer) as page:
        page.goto(site)
        text = wait_for_failure(page)
        assert "app/main.js" in text and "Reload the page" in text, text
        assert page.get_attribute("[data-testid=status]", "data-state") == "error"
        assert page.text_content("#load-label") == "TinyGPT could not start."


# A module that throws as it is imported: ours, or uPlot as it did under a language Intl
# rejects (WebKitGTK's "C"; tests/browsers checks that case in Firefox and WebKit too).
@pytest.mark.parametrize("path,code", [
    ("app/chart.js", "export const SMOOTHING = 0.95; export function smooth() {}"
                     " export class LossChart {}\nthrow new Error('the chart broke on purpose');"),
    ("vendor/uplot/uPlot.esm.js", "throw new RangeError('the chart broke on purpose');"
                                  "\nexport default null;"),
], ids=["chart.js", "uPlot"])
def test_a_playground_whose_code_throws_as_it_starts_says_so(no_worker_context, site, path, code):
    def throwing(route):
        route.fulfill(status=200, content_type="text/javascript", body=code)

    with failing_page(no_worker_context, path, throwing) as page:
        page.goto(site)
        text = wait_for_failure(page)
        assert "the chart broke on purpose" in text and "Reload the page" in text, text
        assert page.get_attribute("[data-testid=status]", "data-state") == "error"


def test_a_module_that_loads_but_never_runs_its_code_is_a_failed_start(no_worker_context, site):
    # As WebKit behaves when a module the page imports throws: the page's module script
    # fires its load event and no error event. Its code never says it ran (a
    # "tinygpt:module-ran" event), and the watchdog takes that silence for a failure.
    def silent(route):
        route.fulfill(status=200, content_type="text/javascript", body="export {};\n")

    with failing_page(no_worker_context, "app/python-start.js", silent) as page:
        page.goto(site)
        text = wait_for_failure(page)
        assert "its code stopped" in text and "Reload the page" in text, text
        assert page.get_attribute("[data-testid=status]", "data-state") == "error"


def test_a_playground_whose_code_never_arrives_says_so(no_worker_context, site):
    # A module that never answers: the watchdog's time limit (a minute; 2 s here).
    with failing_page(no_worker_context, "app/share.js", lambda route: None) as page:
        page.add_init_script("window.tinygptStartLimitMs = 2000;")
        page.goto(site, wait_until="commit")
        text = wait_for_failure(page)
        assert "did not finish loading" in text, text


def test_a_lessons_page_whose_code_fails_to_load_says_so(no_worker_context, site):
    aborted = failing_page(no_worker_context, "app/lessons/main.js", lambda route: route.abort())
    with aborted as page:
        page.goto(site + "lessons.html#tokens")
        text = wait_for_failure(page)
        assert "app/lessons/main.js" in text, text
        assert page.get_attribute("[data-testid=python-status]", "data-state") == "failed"
        assert page.locator("[role=alert][data-testid=error]").count() == 1


def test_a_playground_whose_python_fails_to_start_says_so(no_worker_context, site):
    # The page's code runs; Python's start does not (its package cannot be fetched).
    with failing_page(no_worker_context, "py/tinygpt.zip", lambda route: route.abort()) as page:
        page.goto(site)
        text = wait_for_failure(page)
        assert "could not start Python" in text and "tinygpt.zip" in text, text
        assert page.get_attribute("[data-testid=status]", "data-state") == "error"
