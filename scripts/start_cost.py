"""What starting the playground costs in Chromium, as the browser tests start it: several
starts in one browser context (the first a first visit, the others from the service
worker's copy), each timed to "ready" and charged the whole machine's processor time over
that span (Linux's /proc/stat: run it on a quiet machine). Prints each start and the
median of all but the first.

  .venv/bin/python scripts/start_cost.py [--starts 7] [--trace] [--playwright-features]
                                         [--shared-process] [-- CHROMIUM_SWITCH ...]

--trace: Chrome's thread time of the last start, per process and thread (where the
processor time goes). --playwright-features: without the tests' --disable-features (so
with the omnibox popup each new window preloads; tests/e2e/browsing.py). Switches after
`--` go to Chromium too, e.g. `-- --js-flags=--liftoff-only` (no optimizing tier for
WebAssembly). --shared-process: as the browser tests that measure no time start it, in
Chromium's headless shell (browsing.headless_shell_path), the pages in one renderer
process that keeps its compiled Pyodide (browsing.SHARED_PROCESS_ARGS); without it, the
full browser (browsing.chromium_path), as the timed tests and a visitor run it.
Needs `npm test` (or `npm run build` and scripts/setup_python.sh) first.
"""

import argparse
import collections
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
from browsing import (  # noqa: E402
    CHROMIUM_ARGS,
    DIST,
    SHARED_PROCESS_ARGS,
    chromium_path,
    headless_shell_path,
    keep_site_process,
    new_context,
    serve,
    watched_page,
)
from pageutil import open_playground  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402


def busy_seconds():
    """The machine's processor time so far (all cores, not idle or waiting), in seconds."""
    fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / 100


def launch(playwright, site, shared_process, switches=CHROMIUM_ARGS, more=(), **context_options):
    """Chromium as the browser tests run it, and a context for `site`: with shared_process,
    the headless shell, the pages in one renderer process that keeps its compiled Pyodide
    (the tests that measure no time); else the full browser, a renderer process per page
    (a visitor's, and the timed tests'). `more`: switches after the tests' own."""
    executable = headless_shell_path() if shared_process else chromium_path()
    extra = SHARED_PROCESS_ARGS if shared_process else []
    browser = playwright.chromium.launch(executable_path=executable,
                                         args=[*switches, *extra, *more])
    context = new_context(browser, **context_options)
    if shared_process:
        keep_site_process(context, site)
    return browser, context


def thread_times(trace):
    """Thread time (ms) of the trace's top-level tasks, per (process, thread) name."""
    events = json.loads(trace)["traceEvents"]
    names = {}
    for e in events:
        if e.get("ph") == "M" and e["name"] in ("thread_name", "process_name"):
            tid = e["tid"] if e["name"] == "thread_name" else None
            names[(e["pid"], tid)] = e["args"]["name"]
    total = collections.Counter()
    for e in events:
        if e.get("ph") == "X" and e.get("cat", "").startswith("toplevel") and "tdur" in e:
            process = names.get((e["pid"], None), e["pid"])
            total[(process, names.get((e["pid"], e["tid"]), e["tid"]))] += e["tdur"] / 1000
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=7)
    parser.add_argument("--trace", action="store_true")
    parser.add_argument("--playwright-features", action="store_true")
    parser.add_argument("--shared-process", action="store_true")
    parser.add_argument("switches", nargs="*")
    args = parser.parse_args()
    switches = [a for a in CHROMIUM_ARGS
                if not (args.playwright_features and a.startswith("--disable-features="))]
    ready, processor = [], []
    with serve(DIST) as site, sync_playwright() as p:
        browser, context = launch(p, site, args.shared_process, switches, args.switches)
        for i in range(args.starts):
            page = watched_page(context, site)
            tracing = args.trace and i == args.starts - 1
            if tracing:
                browser.start_tracing(categories=["toplevel", "v8", "v8.wasm"])
            busy, began = busy_seconds(), time.perf_counter()
            open_playground(page, site)
            ready.append(time.perf_counter() - began)
            processor.append(busy_seconds() - busy)
            trace = browser.stop_tracing() if tracing else None
            print(f"start {i + 1}: ready in {ready[-1]:.2f} s, {processor[-1]:.2f} s of processor",
                  flush=True)
            page.close()
        browser.close()
    print(f"median of starts 2-{args.starts}: ready in {statistics.median(ready[1:]):.2f} s,"
          f" {statistics.median(processor[1:]):.2f} s of processor")
    if trace:
        print("\nthe last start's thread time, ms (Chrome's trace, top-level tasks):")
        for (process, thread), ms in thread_times(trace).most_common(12):
            print(f"{ms:8.0f}  {process} / {thread}")


if __name__ == "__main__":
    main()
