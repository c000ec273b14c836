"""What starting Python from a memory snapshot would save, measured in Chromium: Pyodide's
`loadPyodide({_loadSnapshot})` (still marked experimental in Pyodide) against a plain
start, both ending with the package unpacked and `tinygpt.web` imported, as the
playground starts it from the service worker's copy (the compiled standard library).

The snapshot is made by the site's own Pyodide under Node, as a build would make it
(Python started, the package unpacked, `tinygpt.web` imported, then
`pyodide.makeMemorySnapshot()`), gzipped, and served from a copy of dist/ with it added
(the site has no snapshot). Starts alternate, plain then snapshot, each in a new page of
one browser context; each is timed to "imported" and charged the whole machine's
processor time over that span (Linux's /proc/stat: run it on a quiet
machine). After each start the page trains 5 steps and reads back what Python read as it
started, so the two kinds of start can be compared: the losses (the same, or the snapshot
is wrong), a draw of `random` after `random.seed()` (differs from start to start when
reseeding works) and `time.timezone` in a page in New York's time zone (18000 when Python
read the page's zone; the snapshot keeps the zone of the machine that made it).

  .venv/bin/python scripts/snapshot_cost.py [--starts 8] [--shared-process]

--shared-process: the pages in one renderer process that keeps its compiled Pyodide, as
the browser tests that measure no time start them (scripts/start_cost.py); without it, a
renderer process per page, as in a visitor's browser. Needs `npm test` (or `npm run
build` and scripts/setup_python.sh) first. README, "How long it all takes", says what the
figures mean for the tests' time.
"""

import argparse
import ast
import gzip
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
from browsing import DIST, serve, watched_page  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from start_cost import busy_seconds, launch  # noqa: E402

SNAPSHOT_URL = "py/python.snapshot.gz"  # in this script's copy of the site only

# Run by Node with the site's Pyodide, started with the options app/python-package.js
# gives it (it cannot run there: it downloads with fetch): writes the snapshot (raw bytes)
# to argv[2].
MAKE_SNAPSHOT = """
import fs from "node:fs";
const [dist, out] = process.argv.slice(1);
const { loadPyodide } = await import(`${dist}/vendor/pyodide/pyodide.mjs`);
const pyodide = await loadPyodide({
  indexURL: `${dist}/vendor/pyodide/`,
  stdLibURL: `${dist}/vendor/pyodide/python_stdlib.compiled.zip`,
  packages: [], env: { PYTHONDONTWRITEBYTECODE: "1" }, _makeSnapshot: true,
});
const archive = new Uint8Array(fs.readFileSync(`${dist}/py/tinygpt.zip`));
pyodide.unpackArchive(archive, "zip", { extractDir: "/home/pyodide" });
pyodide.runPython("import sys; sys.path.insert(0, '/home/pyodide'); import tinygpt.web");
fs.writeFileSync(out, pyodide.makeMemorySnapshot());
"""

# In a page of the site: start Python as the pages start theirs (app/python-package.js,
# from the service worker's copy: the compiled standard library), from the snapshot if
# asked, then import tinygpt.web; the milliseconds that took.
START = """async ([site, snapshotUrl]) => {
  const began = performance.now();
  const { startPython } = await import(site + "app/python-package.js");
  const loadOptions = {};
  if (snapshotUrl) {
    const gunzipped = (await fetch(snapshotUrl)).body.pipeThrough(new DecompressionStream("gzip"));
    loadOptions._loadSnapshot = new Uint8Array(await new Response(gunzipped).arrayBuffer());
  }
  const pyodide = await startPython(new URL(site), { compiled: true, loadOptions });
  pyodide.runPython("import tinygpt.web");
  window.__pyodide = pyodide;
  return performance.now() - began;
}"""

AFTER = """
import random, time
from tinygpt.trainer import Trainer
random.seed()
trainer = Trainer("emma\\nolivia\\nava\\nisabella\\nsophia\\n", steps=5, seed=3)
repr(([trainer.step() for _ in range(5)], random.random(), time.timezone))
"""


def make_snapshot(dist):
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "snapshot"
        done = subprocess.run(
            ["node", "--input-type=module", "-e", MAKE_SNAPSHOT, str(dist), str(out)],
            capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"Pyodide under Node could not make the snapshot: {done.stderr[-1500:]}")
        raw = out.read_bytes()
    return raw, gzip.compress(raw, compresslevel=6)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=8, help="starts in all, half of each kind")
    parser.add_argument("--shared-process", action="store_true")
    args = parser.parse_args()
    raw, packed = make_snapshot(DIST)
    print(f"snapshot: {len(raw) / 1e6:.1f} MB, {len(packed) / 1e6:.1f} MB gzipped")
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "dist"
        shutil.copytree(DIST, copy)
        (copy / SNAPSHOT_URL).write_bytes(packed)
        results = measure(copy, args)
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
            ms = page.evaluate(START, [site, site + SNAPSHOT_URL if kind == "snapshot" else None])
            processor = busy_seconds() - busy
            answer = page.evaluate("(code) => window.__pyodide.runPython(code)", AFTER)
            losses, draw, zone = ast.literal_eval(answer)
            results[kind].append((ms / 1000, processor, losses, draw, zone))
            print(f"start {i + 1}, {kind:8}: imported in {ms / 1000:.2f} s, {processor:.2f} s of"
                  f" processor; random after reseeding {draw:.6f}, time.timezone {zone}",
                  flush=True)
            page.close()
        browser.close()
    return results


if __name__ == "__main__":
    sys.exit(main())
