"""Offline: after one visit the service worker has the whole site (Pyodide included) in
its cache, so the playground loads, trains and generates with the network off; and a
new build replaces the old cache instead of being served from it."""

import functools
import http.server
import re
import shutil
import threading
import time

import pytest
from conftest import BASE_PATH, DIST, Handler, new_page
from pageutil import open_playground, wait_steps

# Resolves once the service worker controls this page; answers what its cache holds.
CACHED = """async () => {
  await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller) return null;
  const names = await caches.keys();
  const mine = names.filter((n) => n.startsWith("tinygpt-"));
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
    assert cached["names"] == [f"tinygpt-{sw_version(DIST)}"], cached["names"]
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
    page.click("[data-testid=train-toggle]")
    wait_steps(page, 20)
    page.wait_for_selector("[data-testid=status][data-state=done]")
    page.click("[data-testid=generate]")
    names = page.locator("[data-testid=sample]").all_text_contents()
    assert len(names) == 10 and all(names)
    assert page.text_content("[data-testid=error]").strip() == ""


def test_lessons_alone_make_the_site_work_offline(page, site):
    # A first visit to the lessons page (never the playground) installs the cache too,
    # and its code cells, whose Pyodide runs in a worker, then run with the network off.
    page.goto(site + "lessons.html#tokens")
    page.wait_for_selector("[data-testid=python-status][data-state=ready]", timeout=60_000)
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
    shutil.copytree(DIST, root / BASE_PATH.strip("/"))
    handler = functools.partial(Handler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}{BASE_PATH}", root / BASE_PATH.strip("/")
    server.shutdown()


def test_a_new_build_replaces_the_old_cache(browser, own_site):
    site, dist = own_site
    context, page = new_page(browser, site)
    try:
        open_playground(page, site)
        old = sw_version(dist)
        assert wait_for_cache(page)["names"] == [f"tinygpt-{old}"]

        # "Deploy" a new build: one page changes, and so does the service worker's version.
        page_file = dist / "index.html"
        page_file.write_text(page_file.read_text().replace("</body>", "<!-- build 2 --></body>"))
        sw = dist / "sw.js"
        sw.write_text(sw.read_text().replace(old, "build2"))
        page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
        wait_until(page, "async () => (await caches.keys()).join() === 'tinygpt-build2'")
        # The new cache holds the new files, not copies from the browser's HTTP cache.
        html = page.evaluate(
            "async () => (await (await caches.open('tinygpt-build2')).match('index.html')).text()"
        )
        assert "<!-- build 2 -->" in html

        page.context.set_offline(True)
        page.reload()
        page.wait_for_selector("[data-testid=status][data-state=ready]", timeout=30_000)
        assert "<!-- build 2 -->" in page.content()
    finally:
        context.close()
    assert page.watch.foreign == [] and page.watch.errors == []
