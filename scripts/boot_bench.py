"""How soon the pages are ready, and what a first visit downloads (scripts/bench_browser.py
prints these in its table; `--boot` prints only them).

- cold start: a fresh browser context (empty caches, no service worker) opens the
  playground; seconds from navigation to `[data-testid=status][data-state=ready]`, in the
  page's own clock; and the CPU seconds its main thread spent until then (which a busy
  machine stretches less than the clock).
- warm start: the same context once the service worker controls it (it has the whole
  site), a second visit: the same clock.
- first-visit bytes: the files the playground requested before `ready` (its Resource
  Timing entries and the page itself), each counted as gzip -6 would send it (the local
  server sends files as they are; GitHub Pages compresses).
- lessons, first cell: a fresh context opens the first lesson; seconds from navigation
  to the moment its cells can run (`python-status` ready), and to the first cell's
  output after a click at that moment.
"""

import gzip
import statistics
from pathlib import Path
from urllib.parse import urlsplit

# Installed before the page's scripts: notes when the page's status first says ready
# (either page), in the page's clock (navigation starts at 0).
READY_CLOCK = """
new MutationObserver(() => {
  const ready = document.querySelector(
    '[data-testid=status][data-state=ready], [data-testid=python-status][data-state=ready]');
  if (ready) window.__readyAt ??= performance.now();
}).observe(document, { subtree: true, childList: true, attributes: true,
                       attributeFilter: ['data-state'] });
"""

# What the page has requested so far: its own address and its resources', without queries.
REQUESTED = """() => [location.href, ...performance.getEntriesByType('resource').map((e) => e.name)]
  .map((url) => url.split(/[?#]/)[0])"""

READY_TIMEOUT_MS = 120_000


def gzip_size(file):
    return len(gzip.compress(file.read_bytes(), compresslevel=6, mtime=0))


def requested_files(urls, site, dist):
    """The dist/ files behind a page's request URLs (other URLs, such as data: or blob:,
    carry no download)."""
    files = set()
    for url in urls:
        if not url.startswith(site):
            continue
        relative = urlsplit(url).path[len(urlsplit(site).path):] or "index.html"
        if relative.endswith("/"):
            relative += "index.html"
        file = dist / relative
        if file.is_file():
            files.add(file)
    return sorted(files)


def wait_ready(page):
    page.wait_for_function("() => window.__readyAt !== undefined", timeout=READY_TIMEOUT_MS)
    return page.evaluate("window.__readyAt") / 1000


def main_thread_seconds(cdp):
    metrics = cdp.send("Performance.getMetrics")["metrics"]
    return next(m["value"] for m in metrics if m["name"] == "ThreadTime")


def visit(context, site):
    """Opens the playground in a new page: (its page, seconds to ready, main-thread CPU
    seconds to ready)."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    before = main_thread_seconds(cdp)
    page.goto(site)
    ready = wait_ready(page)
    return page, ready, main_thread_seconds(cdp) - before


def cold_and_warm(browser, site, dist):
    """One fresh context: the cold start, its downloads, then a warm second visit."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.add_init_script(READY_CLOCK)
    try:
        page, cold, cold_cpu = visit(context, site)
        files = requested_files(page.evaluate(REQUESTED), site, dist)
        # The service worker has precached the site once it controls the page.
        page.wait_for_function("() => navigator.serviceWorker.controller !== null",
                               timeout=READY_TIMEOUT_MS)
        page.close()
        page, warm, warm_cpu = visit(context, site)
        controlled = page.evaluate("() => navigator.serviceWorker.controller !== null")
    finally:
        context.close()
    if not controlled:
        raise SystemExit("the second visit was not served by the service worker")
    return {"cold": cold, "warm": warm, "cold_cpu": cold_cpu, "warm_cpu": warm_cpu,
            "files": files}


def lessons_first_cell(browser, site):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.add_init_script(READY_CLOCK)
    try:
        page = context.new_page()
        page.goto(site + "lessons.html#tokens")
        ready = wait_ready(page)
        box = page.locator("[data-view=tokens] [data-testid=code-cell]").first
        box.locator("[data-testid=run]").click()
        page.wait_for_function(
            "el => ['done', 'error', 'stopped'].includes(el.dataset.state)",
            arg=box.element_handle(), timeout=READY_TIMEOUT_MS,
        )
        output = page.evaluate("performance.now()") / 1000
        state = box.get_attribute("data-state")
    finally:
        context.close()
    if state != "done":
        raise SystemExit(f"the first cell of lesson 1 ended '{state}', not 'done'")
    return {"ready": ready, "output": output}


def measure(browser, site, dist, repeat):
    visits = [cold_and_warm(browser, site, dist) for _ in range(repeat)]
    lessons = [lessons_first_cell(browser, site) for _ in range(repeat)]
    files = visits[0]["files"]
    return {
        "cold": [v["cold"] for v in visits],
        "warm": [v["warm"] for v in visits],
        "cold_cpu": [v["cold_cpu"] for v in visits],
        "warm_cpu": [v["warm_cpu"] for v in visits],
        "files": [(str(f.relative_to(dist)), f.stat().st_size, gzip_size(f)) for f in files],
        "lessons_ready": [v["ready"] for v in lessons],
        "lessons_output": [v["output"] for v in lessons],
    }


def print_table(result, load_average, verbose=False):
    med = statistics.median

    def row(label, values, unit="s"):
        shown = ", ".join(f"{v:.2f}" for v in values)
        print(f"{label:<40}{med(values):>8.2f} {unit}   ({shown})")

    print(f"start-up, medians of {len(result['cold'])} fresh contexts; "
          f"load average {load_average}:")
    row("playground cold start to ready", result["cold"])
    row("  its main thread's CPU time", result["cold_cpu"])
    row("playground warm start to ready", result["warm"])
    row("  its main thread's CPU time", result["warm_cpu"])
    raw = sum(size for _, size, _ in result["files"]) / 1e6
    packed = sum(gz for _, _, gz in result["files"]) / 1e6
    print(f"{'first visit, requested before ready':<40}{packed:>8.2f} MB gzip"
          f"   ({raw:.2f} MB raw, {len(result['files'])} files)")
    row("lessons: first cell can run", result["lessons_ready"])
    row("lessons: first cell's output (run at once)", result["lessons_output"])
    if verbose:
        for name, size, gz in sorted(result["files"], key=lambda f: -f[2]):
            print(f"  {name:<50}{size / 1e3:>10.1f} kB{gz / 1e3:>10.1f} kB gzip")


def load_average():
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"
