"""Offline: after one visit the service worker has the whole site (Pyodide included) in
its cache, so the playground loads, trains and generates with the network off (with the
compiled standard library, which a visit the service worker serves starts with); a new
build replaces the old cache instead of being served from it; the cache is this
deployment's own; and nothing planted in it is ever served, bytes or headers."""

import base64
import hashlib
import json
import re
import shutil
import time

import pytest
from browsing import BASE_PATH, DIST, new_page, serve
from elsewhere import elsewhere
from pageutil import generate_names, open_lessons, open_playground, wait_steps

# The service worker and its cache are the subject: every test a new visitor (conftest.py).
pytestmark = pytest.mark.fresh_context

# Resolves once the service worker controls this page; answers what its cache holds.
CACHED = """async () => {
  await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller) return null;
  const names = await caches.keys();
  const mine = names.filter((n) => n.startsWith("tinygpt "));
  if (mine.length !== 1) return { names };
  const keys = await (await caches.open(mine[0])).keys();
  return { names, urls: keys.map((r) => new URL(r.url).pathname) };
}"""

CONTROLLED = "() => navigator.serviceWorker.controller !== null"


def built_files(dist):
    """Every file the build put in dist/ (what the service worker must precache)."""
    return sorted(
        str(p.relative_to(dist)) for p in dist.rglob("*") if p.is_file() and p.name != ".nojekyll"
    )


def sw_version(dist):
    return re.search(r'const VERSION = "(\w+)"', (dist / "sw.js").read_text()).group(1)


def cache_name(site, version):
    """The service worker's cache: this deployment's scope, then the build's version."""
    return f"tinygpt {site} {version}"


def wait_until(page, condition, timeout_s=30):
    """Poll an async condition (wait_for_function takes a promise as truthy at once)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(condition):
        assert time.monotonic() < deadline, f"timed out waiting for: {condition}"
        page.wait_for_timeout(200)


def wait_for_cache(page):
    page.wait_for_function(CONTROLLED, timeout=30_000)
    return page.evaluate(CACHED)


def test_loads_trains_and_generates_offline(page, site):
    open_playground(page, site, "?steps=20")
    cached = wait_for_cache(page)
    assert cached["names"] == [cache_name(site, sw_version(DIST))], cached["names"]
    urls = set(cached["urls"])
    missing = [f for f in built_files(DIST) if BASE_PATH + f not in urls and f != "sw.js"]
    assert missing == [], f"not precached: {missing}"
    assert BASE_PATH + "vendor/pyodide/pyodide.asm.wasm" in urls

    page.context.set_offline(True)
    # The network really is off: anything not in the cache fails.
    assert page.evaluate(
        "() => fetch('./not-cached.txt?' + Date.now()).then(() => 'fetched', () => 'failed')"
    ) == "failed"
    page.reload()
    page.wait_for_selector("[data-testid=status][data-state=ready]", timeout=30_000)
    assert page.evaluate(CONTROLLED)
    # Everything is cached: Python starts from the compiled standard library.
    stdlibs = page.evaluate("""() => performance.getEntriesByType('resource')
        .map((e) => e.name.split('/').pop()).filter((n) => n.startsWith('python_stdlib'))""")
    assert stdlibs == ["python_stdlib.compiled.zip"], stdlibs
    page.click("[data-testid=train-toggle]")
    wait_steps(page, 20)
    page.wait_for_selector("[data-testid=status][data-state=done]")
    names = generate_names(page)
    assert len(names) == 10 and all(names)
    assert page.text_content("[data-testid=error]").strip() == ""


def test_lessons_alone_make_the_site_work_offline(page, site):
    # A first visit to the lessons page (never the playground) installs the cache too,
    # and its code cells, whose Pyodide runs in a worker, then run with the network off.
    open_lessons(page, site, "tokens")
    wait_for_cache(page)
    page.context.set_offline(True)
    page.reload()
    page.wait_for_selector("[data-testid=python-status][data-state=ready]", timeout=60_000)
    box = page.locator("[data-view=tokens] [data-testid=code-cell]").first
    box.locator("[data-testid=run]").click()
    page.wait_for_function(
        "el => ['done', 'error', 'stopped'].includes(el.dataset.state)",
        arg=box.element_handle(), timeout=60_000,
    )
    assert box.get_attribute("data-state") == "done"
    assert box.locator("[data-testid=cell-output]").text_content().strip()
    page.goto(site + "?steps=10")  # and the playground, never visited online, loads too
    page.wait_for_selector("[data-testid=status][data-state=ready]", timeout=30_000)


@pytest.fixture
def own_site(tmp_path):
    """A copy of dist/ served on its own, so the test can deploy a new build over it."""
    root = tmp_path / "site"
    shutil.copytree(DIST, root)
    with serve(root) as url:
        yield url, root


def deploy(dist, path, change):
    """A new build, as scripts/build.mjs would make it: `path` changed, its hash in the
    service worker's manifest, and a new version."""
    file = dist / path
    file.write_text(change(file.read_text()))
    digest = base64.b64encode(hashlib.sha256(file.read_bytes()).digest()).decode()
    sw = dist / "sw.js"
    text = sw.read_text()
    manifest = json.loads(re.search(r"const MANIFEST = (\{.*?\});", text).group(1))
    old_hash = manifest[path]
    text = text.replace(f'"{path}":"{old_hash}"', f'"{path}":"{digest}"')
    sw.write_text(text.replace(sw_version(dist), "build2"))


def test_a_new_build_replaces_the_old_cache(browser, own_site):
    site, dist = own_site
    context, page = new_page(browser, site)
    try:
        open_playground(page, site)
        old = sw_version(dist)
        assert wait_for_cache(page)["names"] == [cache_name(site, old)]

        # "Deploy" a new build: one page changes, and so does the service worker.
        deploy(dist, "index.html", lambda html: html.replace("</body>", "<!-- build 2 --></body>"))
        page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
        new = cache_name(site, "build2")
        wait_until(page, f"async () => (await caches.keys()).join() === {json.dumps(new)}")
        # The new cache holds the new files, not copies from the browser's HTTP cache.
        html = page.evaluate(
            "async (name) => (await (await caches.open(name)).match('index.html')).text()", new
        )
        assert "<!-- build 2 -->" in html

        page.context.set_offline(True)
        page.reload()
        page.wait_for_selector("[data-testid=status][data-state=ready]", timeout=30_000)
        assert "<!-- build 2 -->" in page.content()
    finally:
        context.close()
    page.watch.assert_clean()


def test_another_deployment_keeps_its_own_cache(browser, tmp_path):
    # Two TinyGPTs on one origin (/a/ and /b/, as two repositories of one GitHub Pages
    # user): each service worker keeps and reads its own cache, and neither deletes the
    # other's.
    for name in ("a", "b"):
        shutil.copytree(DIST, tmp_path / name)
    with serve(tmp_path, base="/") as origin:
        context, page = new_page(browser, origin)
        try:
            for name in ("a", "b"):
                open_playground(page, f"{origin}{name}/")
                wait_for_cache(page)
            names = page.evaluate("caches.keys()")
            version = sw_version(DIST)
            assert sorted(names) == [cache_name(f"{origin}{n}/", version) for n in "ab"], names
            count = page.evaluate(
                "async (name) => (await (await caches.open(name)).keys()).length",
                cache_name(f"{origin}a/", version),
            )
            assert count > 50  # a's files are all still there
        finally:
            context.close()
        page.watch.assert_clean()


# A script on this origin (as a lesson cell can run) writes its own index.html and
# app/main.js into the service worker's cache.
PLANT_FILES = """async () => {
    const [name] = (await caches.keys()).filter((n) => n.startsWith("tinygpt "));
    const cache = await caches.open(name);
    const evil = (body, type) => new Response(body, {headers: {"Content-Type": type}});
    await cache.put("index.html", evil("<h1>planted</h1>", "text/html"));
    await cache.put("app/main.js", evil("document.title = 'planted';", "text/javascript"));
    return name;
}"""
CACHED_PAGE = "async (name) => (await (await caches.open(name)).match('index.html')).text()"


def test_a_planted_file_is_never_served(page, site):
    open_playground(page, site)
    wait_for_cache(page)
    # Planted before the worker served either file: it checks them, finds them planted,
    # serves the real ones...
    planted = page.evaluate(PLANT_FILES)
    page.reload()
    page.wait_for_selector("[data-testid=status][data-state=ready]", timeout=30_000)
    assert "planted" not in page.content() and page.title() != "planted"
    # ...and puts them back into the cache.
    html = page.evaluate(CACHED_PAGE, planted)
    assert "planted" not in html and "TinyGPT" in html
    # Planted after it served them: it serves what it checked then, without reading the
    # cache again (sw.js), so still the real ones.
    page.evaluate(PLANT_FILES)
    assert "planted" in page.evaluate(CACHED_PAGE, planted)  # landed
    page.reload()
    page.wait_for_selector("[data-testid=status][data-state=ready]", timeout=30_000)
    assert "planted" not in page.content() and page.title() != "planted"


# A script of this origin (a lesson cell can run one) rewrites two cache entries with
# their real bytes, which pass the hash check, and headers of its own: the page's sends
# every later visit elsewhere; app/main.js's type is one no browser runs as a module.
PLANT_HEADERS = """async (away) => {
    const [name] = (await caches.keys()).filter((n) => n.startsWith("tinygpt "));
    const cache = await caches.open(name);
    const plant = async (path, headers) => {
        const real = await (await cache.match(path)).arrayBuffer();
        await cache.put(path, new Response(real, { headers }));
    };
    await plant("index.html", { "Content-Type": "text/html", "Refresh": `0; url=${away}` });
    await plant("app/main.js", { "Content-Type": "text/plain" });
    const index = await cache.match("index.html");
    const main = await cache.match("app/main.js");
    return { refresh: index.headers.get("Refresh"), type: main.headers.get("Content-Type") };
}"""


def test_headers_planted_in_the_cache_are_never_served(browser, site):
    with elsewhere() as (away, hits):
        context, page = new_page(browser, site)
        try:
            open_playground(page, site)
            wait_for_cache(page)
            planted = page.evaluate(PLANT_HEADERS, away + "lured")
            assert planted == {"refresh": f"0; url={away}lured", "type": "text/plain"}  # landed
            response = page.reload()
            page.wait_for_selector("[data-testid=status][data-state=ready]", timeout=30_000)
            page.wait_for_timeout(500)  # a Refresh of 0 s would have left by now
            assert page.url.startswith(site), page.url
            assert "refresh" not in response.headers
            assert response.headers["content-type"] == "text/html; charset=utf-8"
            served = page.evaluate("""async () => {
                const r = await fetch("app/main.js");
                return [r.headers.get("Content-Type"), r.headers.get("Content-Security-Policy")];
            }""")
            assert served[0] == "text/javascript" and "default-src 'self'" in served[1]
            violations = page.watch.csp_violations()
        finally:
            context.close()
    assert hits == [], f"the page went elsewhere: {hits}"
    page.watch.assert_clean()
    assert violations == []
