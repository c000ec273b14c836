"""What starting Python from the build's memory snapshot saves, measured in Chromium: the
playground's start from py/playground.snapshot (scripts/python-snapshot.mjs: Pyodide's
`loadPyodide({_loadSnapshot})`, still marked experimental in Pyodide) against a plain
start, both through app/python-package.js as the playground starts (from the service
worker's copy: the compiled standard library), and both ending with `tinygpt.web`
imported.

Starts alternate, plain then snapshot, each in a new page of one browser context; each is
timed to "imported" (the snapshot's download and gunzip included) and charged the whole
machine's processor time over that span (Linux's /proc/stat: run it on a quiet machine).
After each start the page trains 5 steps and reads back what Python read as it started,
so the two kinds of start can be compared: the losses (the same, or the snapshot is
wrong), a draw of `random` (the page reseeds it after a restore: it differs from start to
start) and `time.timezone` in a page in New York's time zone (18000 when Python read the
page's zone; a restored Python keeps the zone of the machine that built the site, which
the package never reads).

  .venv/bin/python scripts/snapshot_cost.py [--starts 8] [--shared-process]

--shared-process: the pages in one renderer process that keeps its compiled Pyodide, as
the browser tests that measure no time start them (scripts/start_cost.py); without it, a
renderer process per page, as in a visitor's browser. Needs `npm test` (or `npm run
build` and scripts/setup_python.sh) first. README, "How long it all takes", says what the
figures mean.
"""

import argparse
import ast
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
from browsing import DIST, serve, watched_page  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from start_cost import busy_seconds, launch  # noqa: E402

# In a page of the site: start Python as the playground starts it (app/python-package.js,
# the compiled standard library), from the snapshot if asked, then import tinygpt.web; the
# milliseconds that took, and whether the snapshot was used.
START = """async ([site, snapshot]) => {
  const began = performance.now();
  const { RESTORED, startPython } = await import(site + "app/python-package.js");
  const stages = [];
  const onStage = (stage) => stages.push(stage);
  const pyodide = await startPython(new URL(site), { compiled: true, snapshot, onStage });
  pyodide.runPython("import tinygpt.web");
  window.__pyodide = pyodide;
  return [performance.now() - began, stages.includes(RESTORED)];
}"""

AFTER = """
import random, time
from tinygpt.trainer import Trainer
trainer = Trainer("emma\\nolivia\\nava\\nisabella\\nsophia\\n", steps=5, seed=3)
repr(([trainer.step() for _ in range(5)], random.random(), time.timezone))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=8, help="starts in all, half of each kind")
    parser.add_argument("--shared-process", action="store_true")
    args = parser.parse_args()
    snapshot = DIST / "py" / "playground.snapshot"
    if not snapshot.exists():
        sys.exit(f"no {snapshot}: build the site first (npm run build)")
    print(f"snapshot: {snapshot.stat().st_size / 1e6:.1f} MB gzipped")
    results = measure(DIST, args)
    for kind, runs in results.items():
        print(f"median, {kind:8}: imported in {statistics.median(r[0] for r in runs):.2f} s,"
              f" {statistics.median(r[1] for r in runs):.2f} s of processor")
    same = all(r[2] == results["plain"][0][2] for runs in results.values() for r in runs)
    print(f"same losses after every start: {'yes' if same else 'NO'}")
    return 0 if same else 1


def measure(dist, args):
    """{kind: [(seconds, processor seconds, losses, draw, time zone)]}, a start each."""
    results = {"plain": [], "snapshot": []}
    with serve(dist) as site, sync_playwright() as p:
        browser, context = launch(p, site, args.shared_process, timezone_id="America/New_York")
        for i in range(args.starts):
            kind = ("plain", "snapshot")[i % 2]
            page = watched_page(context, site)
            page.goto(site + "schema.json")  # a document of the site with no code of its own
            busy = busy_seconds()
            ms, restored = page.evaluate(START, [site, kind == "snapshot"])
            processor = busy_seconds() - busy
            if restored != (kind == "snapshot"):
                sys.exit(f"start {i + 1}: asked for a {kind} start, got the other kind")
            answer = page.evaluate("(code) => window.__pyodide.runPython(code)", AFTER)
            losses, draw, zone = ast.literal_eval(answer)
            results[kind].append((ms / 1000, processor, losses, draw, zone))
            print(f"start {i + 1}, {kind:8}: imported in {ms / 1000:.2f} s, {processor:.2f} s of"
                  f" processor; random.random() {draw:.6f}, time.timezone {zone}",
                  flush=True)
            page.close()
        browser.close()
    return results


if __name__ == "__main__":
    sys.exit(main())
