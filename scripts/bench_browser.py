"""Benchmark in Chromium: TinyGPT's Python engines against a plain JavaScript port.

Serves the built site (dist/, or TINYGPT_DIST) under /tinygpt/, opens the benchmark
page (bench/index.html) in the system Chromium, and prints one table: milliseconds
per step and steps per second of the JavaScript port of microgpt.py (a scalar Value
autograd), the Python `fast` engine and the Python `scalar` engine, all timed in the
same tab from the same initial parameters; the fast engine's documents per second with
1, 4 and 8 documents per step (batch), and at 8 with steps computed whole and cut into a
chunk per name (against the page's cutting, tinygpt.work.chunk_ranges); then the
playground's own throughput with the UI live (Train pressed, 1000 steps, the chart and
counters updating); and how soon the pages
are ready: the playground's cold and warm start, what its first visit downloads, and when
the first lesson's cells can run (scripts/boot_bench.py says how each is measured).

    .venv/bin/python scripts/bench_browser.py [--steps 200] [--scalar-steps 20] [--repeat 3]
    .venv/bin/python scripts/bench_browser.py --boot [--files]   # start-up numbers only

Every number is the median over --repeat fresh page loads. With --insides it measures
only what the "Inside the model" panel costs: the playground's steps per second (and the
main thread's CPU time) with the panel closed and open, in alternating page loads.
"""

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
# The start-up numbers (scripts/, beside this file); the browser set-up of the browser
# tests, so the benchmark runs Chromium the same way.
import boot_bench  # noqa: E402
from browsing import CHROMIUM_ARGS, DIST, LONG_TASKS_SCRIPT, chromium_path, serve  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

ENGINES = [("js", "JS port (scalar Value)"), ("fast", "Python fast"), ("scalar", "Python scalar")]


# Installed in a page after window.benchTimes exists: when Train was pressed and when the
# run was done, in the page's own clock (both playground benchmarks read them).
TIME_TRAIN_TO_DONE = """() => {
    const status = document.querySelector('[data-testid=status]');
    document.querySelector('[data-testid=train-toggle]').addEventListener('click', () => {
        window.benchTimes.clicked = performance.now();
    }, { capture: true });
    new MutationObserver(() => {
        if (status.dataset.state === 'done') window.benchTimes.done ??= performance.now();
    }).observe(status, { attributes: true });
}"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=200, help="JS port and fast steps per run")
    parser.add_argument("--scalar-steps", type=int, default=20, help="scalar engine steps per run")
    parser.add_argument("--repeat", type=int, default=3, help="page loads; medians are reported")
    parser.add_argument(
        "--playground-steps", type=int, default=1000, help="steps of the playground run (0: skip)"
    )
    parser.add_argument("--profile", action="store_true", help="print a cProfile of fast steps")
    parser.add_argument(
        "--insides", action="store_true",
        help="only the playground with the 'Inside the model' panel closed, then open",
    )
    parser.add_argument("--boot", action="store_true", help="only the start-up numbers")
    parser.add_argument(
        "--files", action="store_true", help="list the files a first visit requests"
    )
    args = parser.parse_args()
    if not 1 <= args.steps <= 1000:
        parser.error("--steps must be between 1 and 1000 (one default run)")
    if not 1 <= args.scalar_steps <= 200:
        parser.error("--scalar-steps must be between 1 and 200")
    if not 1 <= args.repeat <= 20:
        parser.error("--repeat must be between 1 and 20")
    if not 0 <= args.playground_steps <= 1000:
        parser.error("--playground-steps must be between 0 and 1000")
    return args


def run_bench_page(browser, site, args):
    """One fresh load of the benchmark page; returns its window.benchResult."""
    context = browser.new_context()
    try:
        page = context.new_page()
        query = f"?js={args.steps}&fast={args.steps}&scalar={args.scalar_steps}"
        page.goto(site + "bench/" + query + ("&profile" if args.profile else ""))
        # A function, not an expression: the bench page's CSP allows no eval.
        page.wait_for_function("() => window.benchResult", timeout=600_000)
        result = page.evaluate("window.benchResult")
    finally:
        context.close()
    if "error" in result:
        sys.exit(f"the benchmark page failed: {result['error']}")
    return result


def run_playground(browser, site, steps):
    """Train `steps` steps in the playground with the UI live.

    Returns {seconds, shown: the page's steps/s readouts, in_python: the share of those
    seconds spent inside Python's train_for, long_tasks: their durations in ms}.
    """
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.add_init_script(LONG_TASKS_SCRIPT)
    try:
        page = context.new_page()
        page.goto(f"{site}?steps={steps}")
        page.wait_for_selector("[data-testid=status][data-state=ready]", timeout=60_000)
        # The page times itself, from the click to the moment the status says done
        # (polling from here would add up to a poll interval), and the bridge counts the
        # time spent in train_for: the rest is drawing, the browser and the loop.
        page.evaluate("""() => {
            window.benchTimes = { python: 0 };
            const call = window.tinygptCall;
            window.tinygptCall = (name, args) => {
                const start = performance.now();
                try {
                    return call(name, args);
                } finally {
                    if (name === 'train_for') window.benchTimes.python += performance.now() - start;
                }
            };
        }""")
        page.evaluate(TIME_TRAIN_TO_DONE)
        page.evaluate("window.__longTasks.length = 0")
        page.click("[data-testid=train-toggle]")
        # The run is built in a few tasks first (Session.build_run), then trains.
        page.wait_for_selector("[data-testid=status]:is([data-state=training], [data-state=done])")
        shown = []  # the page's own steps/s readout, sampled once a second
        while page.get_attribute("[data-testid=status]", "data-state") == "training":
            rate = page.text_content("[data-testid=steps-per-second]").strip()
            if rate.replace(".", "", 1).isdigit():
                shown.append(float(rate))
            time.sleep(1)
        page.wait_for_selector("[data-testid=status][data-state=done]", timeout=120_000)
        times = page.evaluate("window.benchTimes")
        seconds = (times["done"] - times["clicked"]) / 1000
        in_python = times["python"] / 1000 / seconds
        long_tasks = page.evaluate("window.__longTasks.map((t) => Math.round(t.duration))")
        done = int(page.text_content("[data-testid=step-count]"))
        if done != steps:
            sys.exit(f"the playground stopped at step {done} of {steps}")
    finally:
        context.close()
    return {"seconds": seconds, "shown": shown, "in_python": in_python, "long_tasks": long_tasks}


def print_table(results, playground, args):
    med = statistics.median
    runs = {name: [r["engines"][name] for r in results] for name, _ in ENGINES}
    median_ms = {name: med([e["median_ms"] for e in runs[name]]) for name in runs}
    mean_ms = {name: med([e["mean_ms"] for e in runs[name]]) for name in runs}
    rate = {name: 1000 / mean_ms[name] for name in runs}  # steps over time
    first = results[0]
    print(f"TinyGPT benchmark, default model on first names, {first['user_agent']}")
    print(f"Python {first['python']} (Pyodide); medians over {args.repeat} page load(s)\n")
    print(f"{'engine':<26}{'steps':>7}{'median ms':>11}{'mean ms':>9}{'steps/s':>9}")
    for name, label in ENGINES:
        steps = runs[name][0]["steps"]
        print(f"{label:<26}{steps:>7}{median_ms[name]:>11.2f}{mean_ms[name]:>9.2f}{rate[name]:>9.1f}")
    print(f"{'fast / JS port':<26}{rate['fast'] / rate['js']:>35.2f}x")
    print(f"{'fast / scalar':<26}{rate['fast'] / rate['scalar']:>35.2f}x")
    print_batches(results)
    worst = max(max(r["check"]["js_vs_scalar"], r["check"]["fast_vs_scalar"]) for r in results)
    print(f"largest loss difference from the scalar engine: {worst:.1e}")
    print("(steps/s = 1000 / mean ms: the JS port's garbage collections land in a few steps)")
    if playground:
        seconds = med([run["seconds"] for run in playground])
        live = args.playground_steps / seconds
        shown = [med(run["shown"]) for run in playground if run["shown"]]
        in_python = med([run["in_python"] for run in playground])
        long_tasks = [run["long_tasks"] for run in playground]
        # A run too short for the page's steps/s readout to be read while it ran has none.
        readout = f"the page shows {med(shown):.0f}" if shown else "too short for its readout"
        print(
            f"\nplayground, UI live, fast engine: {args.playground_steps} steps in {seconds:.1f} s"
            f" = {live:.1f} steps/s ({readout});"
            f" {live / rate['js']:.2f}x the JS port's steps/s;"
            f" {in_python:.0%} of the time inside Python's train_for"
        )
        print(f"long tasks (over 50 ms) from the click to done, per page load: "
              f"{', '.join(str(len(t)) for t in long_tasks)}"
              f"{'; their ms: ' + str(long_tasks) if any(long_tasks) else ''}")
    if args.profile:
        print("\n" + first.get("profile", "(no profile)"))
        print("\nbatch 4:\n" + first.get("profile_batch", "(no profile)"))


def print_batches(results):
    """Documents per second of the fast engine per batch size (docs over time, medians
    over page loads), and the ratio to batch 1 of each page load (the median of its
    rounds' ratios, see bench/bench.js)."""
    med = statistics.median
    sizes = list(results[0]["batches"])  # 1, 4, 8, then 8 whole and 8 per name
    docs = results[0]["batches"][sizes[0]]["docs"]
    print(f"\nPython fast, documents per step, about {docs} documents at each batch size:")
    header = f"{'batch':<26}{'steps':>7}{'median ms':>11}{'mean ms':>9}{'docs/s':>9}"
    print(f"{header}{'vs batch 1':>12}")
    for b in sizes:
        runs = [r["batches"][b] for r in results]
        ratios = [r["batches"][b]["vs_batch_1"] for r in results]
        print(
            f"{'batch ' + b:<26}{runs[0]['steps']:>7}{med([e['median_ms'] for e in runs]):>11.2f}"
            f"{med([e['mean_ms'] for e in runs]):>9.2f}{med([e['docs_per_s'] for e in runs]):>9.1f}"
            f"{med(ratios):>11.2f}x  (loads: {', '.join(f'{x:.2f}' for x in ratios)})"
        )
    print("(docs/s = batch * 1000 / mean ms; vs batch 1: in each page load, the median over its"
          " rounds of\n the docs/s ratio within a round; here the median of the page loads')")
    if "8 whole" in sizes:  # what cutting steps into chunks costs, in the same rounds
        def vs_whole(key):
            # Per page load: the median over its rounds of the ratio within a round, or the
            # ratio of the whole blocks where no round timed both (a run of a step or two).
            ratios = []
            for r in results:
                cut, whole = r["batches"][key], r["batches"]["8 whole"]
                paired = [a / b for a, b in zip(cut["round_rates"], whole["round_rates"])
                          if a and b and math.isfinite(a / b)]  # (a round without a step: NaN)
                ratios.append(med(paired) if paired else cut["docs_per_s"] / whole["docs_per_s"])
            return ratios
        page, names = vs_whole("8"), vs_whole("8 per name")
        print(f"batch 8 docs/s against whole steps: cut as the page cuts them {med(page):.3f}x"
              f" (loads: {', '.join(f'{x:.3f}' for x in page)}), a name per chunk"
              f" {med(names):.3f}x (loads: {', '.join(f'{x:.3f}' for x in names)})")
    print()


# --- what the "Inside the model" panel costs (--insides) -------------------------------
def run_playground_panel(browser, site, steps, panel_open):
    """One `steps`-step playground run, the panel closed or open: (steps per second, CPU
    seconds of the page's main thread per 1000 steps). The CPU time hardly depends on
    what else the machine runs, so its ratio is the fairer one on a shared machine."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Performance.enable")
        page.goto(f"{site}?steps={steps}")
        page.wait_for_selector("[data-testid=status][data-state=ready]", timeout=60_000)
        toggle = page.locator("[data-testid=insides-toggle]")
        if (toggle.get_attribute("aria-expanded") == "true") != panel_open:
            toggle.click()
        page.evaluate("""() => {
            // What the panel's updates cost: Python's gathering (its own "ms") and drawing.
            window.benchTimes = { updates: 0, gather: 0, draw: 0 };
            const call = window.tinygptCall;
            window.tinygptCall = (name, args) => {
                const answer = call(name, args);
                const insides = name === 'train_for' && JSON.parse(answer).ok.insides;
                if (insides) window.benchTimes.gather += insides.ms ?? 0;
                return answer;
            };
            const panel = window.tinygptInsides, show = panel.show.bind(panel);
            panel.show = (data) => {
                const start = performance.now();
                show(data);
                window.benchTimes.draw += performance.now() - start;
                window.benchTimes.updates += 1;
            };
        }""")
        page.evaluate(TIME_TRAIN_TO_DONE)

        def cpu():
            metrics = cdp.send("Performance.getMetrics")["metrics"]
            return next(m["value"] for m in metrics if m["name"] == "ThreadTime")

        before = cpu()
        page.click("[data-testid=train-toggle]")
        page.wait_for_selector("[data-testid=status][data-state=done]", timeout=600_000)
        used = cpu() - before
        times = page.evaluate("window.benchTimes")
        drawn = page.get_attribute("[data-testid=insides]", "data-step")
        if panel_open and drawn != str(steps):
            sys.exit(f"the open panel shows step {drawn}, not {steps}")
    finally:
        context.close()
    seconds = (times["done"] - times["clicked"]) / 1000
    if panel_open:
        n = max(1, times["updates"])
        print(f"  open: {times['updates']} updates in {seconds:.1f} s, each"
              f" {times['gather'] / n:.1f} ms of Python gathering and"
              f" {times['draw'] / n:.1f} ms of drawing (script only)", file=sys.stderr)
    return steps / seconds, used * 1000 / steps


def bench_insides(browser, site, args):
    steps = args.playground_steps or 1000
    runs = {False: [], True: []}
    for i in range(args.repeat):  # closed-open, open-closed, ...: drift in the load hits both
        for panel_open in (False, True) if i % 2 == 0 else (True, False):
            runs[panel_open].append(run_playground_panel(browser, site, steps, panel_open))
        (closed_rate, closed_cpu), (open_rate, open_cpu) = runs[False][-1], runs[True][-1]
        print(f"run {i + 1}: closed {closed_rate:.1f} steps/s ({closed_cpu:.1f} CPU s per 1000),"
              f" open {open_rate:.1f} ({open_cpu:.1f})", file=sys.stderr)
    med = statistics.median
    rate = {k: med([r for r, _ in v]) for k, v in runs.items()}
    cpu = {k: med([c for _, c in v]) for k, v in runs.items()}
    pairs = ", ".join(f"{o[0] / c[0]:.0%}" for c, o in zip(runs[False], runs[True]))
    print(f"playground, {steps} steps, fast engine, medians over {args.repeat} page load(s) each:")
    print(f"  panel closed {rate[False]:6.1f} steps/s, {cpu[False]:5.2f} s of main-thread CPU"
          " per 1000 steps")
    print(f"  panel open   {rate[True]:6.1f} steps/s, {cpu[True]:5.2f} s")
    print(f"  open / closed: steps/s {rate[True] / rate[False]:.1%} (pairs: {pairs});"
          f" closed CPU / open CPU {cpu[False] / cpu[True]:.1%}")


def main():
    args = parse_args()
    if not (DIST / "bench" / "index.html").exists():
        subprocess.run(["node", "scripts/build.mjs"], cwd=ROOT, check=True)
    if args.boot:
        load = boot_bench.load_average()
        with serve(DIST) as site, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            boot = boot_bench.measure(browser, site, DIST, args.repeat)
            browser.close()
        boot_bench.print_table(boot, load, verbose=args.files)
        return
    if args.insides:
        with serve(DIST) as site, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            bench_insides(browser, site, args)
            browser.close()
        return
    with serve(DIST) as site, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        load = boot_bench.load_average()
        boot = boot_bench.measure(browser, site, DIST, args.repeat)
        results, playground = [], []
        for i in range(args.repeat):
            results.append(run_bench_page(browser, site, args))
            engines = results[-1]["engines"]
            means = {k: round(v["mean_ms"], 2) for k, v in engines.items()}
            means.update({f"fast batch {b}": round(v["mean_ms"], 2)
                          for b, v in results[-1]["batches"].items() if b != "1"})
            print(f"run {i + 1}, mean ms/step: {json.dumps(means)}", file=sys.stderr)
            if args.playground_steps:
                playground.append(run_playground(browser, site, args.playground_steps))
        browser.close()
    print_table(results, playground, args)
    print()
    boot_bench.print_table(boot, load, verbose=args.files)


if __name__ == "__main__":
    main()
