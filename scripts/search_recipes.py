"""The search behind the recipes (py/tinygpt/settings.py, RECIPES), reproducible.

Two parts:

    .venv/bin/python scripts/search_recipes.py search [--only NAME ...]
        trains each candidate in CPython with the fast engine (the page's numbers, within
        1e-9) on US first names with 10% held out, and prints its held-out loss (mean over
        all held-out names) and its training time in the page estimated from documents
        per second in Pyodide (--page-rates, as scripts/bench_browser.py measures them).

    .venv/bin/python scripts/search_recipes.py page RECIPE [--repeat 3]
        trains the recipe in the real playground (built dist/, headless Chromium, the UI
        live) and prints the wall time from Train to done and the held-out loss of the
        model it made: what the README quotes.

    .venv/bin/python scripts/search_recipes.py cli RECIPE
        trains the recipe with the CLI (`python -m tinygpt train --recipe RECIPE`) and
        fails (exit 1) unless its validation loss meets the recipe's bound (BOUNDS): a
        check of the recipes' promises too slow for the test suite (minutes in CPython).
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "py"))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from tinygpt.settings import RECIPES, check_run_settings  # noqa: E402
from tinygpt.trainer import Trainer  # noqa: E402

DATA = ROOT / "public" / "data" / "first_names.txt"
# Candidates: what runs of the PyTorch export suggested (lower learning rates over longer
# runs; batches buy names per second in the page) around the two time budgets.
CANDIDATES = {
    "b1-lr005-8000": {"batch": 1, "lr": 0.005, "steps": 8000},
    "b1-lr005-6000": {"batch": 1, "lr": 0.005, "steps": 6000},
    "b2-lr005-4500": {"batch": 2, "lr": 0.005, "steps": 4500},
    "b4-lr005-2500": {"batch": 4, "lr": 0.005, "steps": 2500},
    "b4-lr01-2500": {"batch": 4, "lr": 0.01, "steps": 2500},
    "b4-lr01-3000": {"batch": 4, "lr": 0.01, "steps": 3000},
    "b4-lr005-8000": {"batch": 4, "lr": 0.005, "steps": 8000},
    "b4-lr005-12000": {"batch": 4, "lr": 0.005, "steps": 12000},
    "b4-lr003-12000": {"batch": 4, "lr": 0.003, "steps": 12000},
    "b4-lr01-12000": {"batch": 4, "lr": 0.01, "steps": 12000},
    "b4-lr007-15000": {"batch": 4, "lr": 0.007, "steps": 15000},
    "e24-b4-lr005-8000": {"batch": 4, "lr": 0.005, "steps": 8000, "n_embd": 24},
    "b4-lr01-1800": {"batch": 4, "lr": 0.01, "steps": 1800},
    "b8-lr01-1000": {"batch": 8, "lr": 0.01, "steps": 1000},
    "b8-lr015-1000": {"batch": 8, "lr": 0.015, "steps": 1000},
    "b8-lr007-5000": {"batch": 8, "lr": 0.007, "steps": 5000},
    "b8-lr01-5000": {"batch": 8, "lr": 0.01, "steps": 5000},
    "b8-lr007-6000": {"batch": 8, "lr": 0.007, "steps": 6000},
    "b8-lr005-6000": {"batch": 8, "lr": 0.005, "steps": 6000},
    "b8-lr005-5000": {"batch": 8, "lr": 0.005, "steps": 5000},
    "h2-b8-lr007-5000": {"batch": 8, "lr": 0.007, "steps": 5000, "n_head": 2},
    "e24-b8-lr007-2500": {"batch": 8, "lr": 0.007, "steps": 2500, "n_embd": 24},
    "e24-b8-lr01-2500": {"batch": 8, "lr": 0.01, "steps": 2500, "n_embd": 24},
    "e20-b8-lr007-3500": {"batch": 8, "lr": 0.007, "steps": 3500, "n_embd": 20},
    "e20-b8-lr01-3500": {"batch": 8, "lr": 0.01, "steps": 3500, "n_embd": 20},
    "b8-lr007-5000-beta2-999": {"batch": 8, "lr": 0.007, "steps": 5000, "beta2": 0.999},
    "b8-lr01-5000-beta1-9": {"batch": 8, "lr": 0.01, "steps": 5000, "beta1": 0.9},
    "b8-lr007-4500-beta2-999": {"batch": 8, "lr": 0.007, "steps": 4500, "beta2": 0.999},
    "b8-lr007-4000-beta2-999": {"batch": 8, "lr": 0.007, "steps": 4000, "beta2": 0.999},
    "b8-lr01-4000-beta2-999": {"batch": 8, "lr": 0.01, "steps": 4000, "beta2": 0.999},
    "b8-lr005-4500-beta2-999": {"batch": 8, "lr": 0.005, "steps": 4500, "beta2": 0.999},
}
# What each recipe promises (its `expect` in settings.py): held-out loss at most this.
BOUNDS = {"microgpt": 2.30, "one-minute": 2.15, "five-minutes": 2.07}
# Documents per second of the playground in Pyodide on the test machine, by batch (UI
# live): scripts/bench_browser.py's playground line at batch 1, times its batch ratios.
DEFAULT_PAGE_RATES = "1:160,2:200,4:240,8:290"


def held_out_loss(settings, log_every=0):
    """Train in CPython; (held-out loss over every held-out name, seconds)."""
    trainer = Trainer(DATA.read_text(), **check_run_settings({**settings, "val_fraction": 0.1}))
    began = time.perf_counter()
    while not trainer.done:
        trainer.step()
        if log_every and trainer.step_count % log_every == 0:
            print(f"    step {trainer.step_count}: loss {trainer.losses[-1]:.3f}", flush=True)
    return trainer.evaluate(), time.perf_counter() - began


def search(args):
    rates = {int(k): float(v) for k, v in (p.split(":") for p in args.page_rates.split(","))}
    names = args.only or list(CANDIDATES)
    print(f"{'candidate':22} {'names':>7} {'held-out':>9} {'page s (est.)':>13} {'CPython s':>9}")
    for name in names:
        settings = CANDIDATES[name]
        loss, seconds = held_out_loss(settings)
        docs = settings["steps"] * settings["batch"]
        cost = (settings.get("n_embd", 16) / 16) ** 2  # matrices grow with n_embd squared
        page = docs / rates[settings["batch"]] * cost
        print(f"{name:22} {docs:7,} {loss:9.4f} {page:13.0f} {seconds:9.0f}", flush=True)


def page(args):
    from browsing import CHROMIUM_ARGS, DIST, chromium_path, serve
    from playwright.sync_api import sync_playwright

    recipe = RECIPES[args.recipe]
    settings = check_run_settings(recipe.settings)
    times, losses = [], []
    with serve(DIST) as site, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        for _ in range(args.repeat):
            context = browser.new_context()
            page_ = context.new_page()
            page_.goto(f"{site}?recipe={args.recipe}&dataset=first_names")
            page_.wait_for_selector("[data-testid=status][data-state=ready]", timeout=60_000)
            page_.wait_for_timeout(2000)  # the start-up's one-off work is done
            began = time.perf_counter()
            page_.click("[data-testid=train-toggle]")
            page_.wait_for_selector("[data-testid=status][data-state=done]",
                                    timeout=30 * 60_000)
            times.append(time.perf_counter() - began)
            state = json.loads(page_.evaluate(
                "() => window.tinygptCall('run_state', '{}')"))["ok"]
            losses.append(Trainer.from_state(state).evaluate())  # None: nothing held out
            print(f"  {args.recipe}: {times[-1]:.1f} s to done, held-out loss "
                  f"{_loss(losses[-1])}", flush=True)
            context.close()
        browser.close()
    print(f"{args.recipe} ({settings['steps']} steps of {settings['batch']}, lr "
          f"{settings['lr']}): median {statistics.median(times):.1f} s, held-out loss "
          f"{_loss(losses[0] if None in losses else statistics.median(losses))} over "
          f"{args.repeat} page loads")


def _loss(value):
    return "- (nothing held out)" if value is None else f"{value:.4f}"


def cli(args):
    import re
    import subprocess

    command = [sys.executable, "-m", "tinygpt", "train", "--recipe", args.recipe,
               "--data", str(DATA)]
    if args.recipe == "microgpt":
        command += ["--val-fraction", "0.1"]  # its settings hold nothing out
    began = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env={"PYTHONPATH": str(ROOT / "py")},
                          capture_output=True, text=True)
    found = re.search(r"validation loss ([0-9.]+)", done.stdout)
    if done.returncode != 0 or not found:
        sys.exit(f"the CLI failed: {done.stderr.strip()[-500:]}")
    loss, bound = float(found.group(1)), BOUNDS[args.recipe]
    verdict = "meets" if loss <= bound else "MISSES"
    print(f"{args.recipe}: CLI validation loss {loss:.4f} {verdict} the bound {bound} "
          f"({time.perf_counter() - began:.0f} s in CPython)")
    if loss > bound:
        sys.exit(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("search", help="candidates in CPython, page time estimated")
    s.add_argument("--only", nargs="*", choices=list(CANDIDATES))
    s.add_argument("--page-rates", default=DEFAULT_PAGE_RATES,
                   help="documents per second in the page by batch, e.g. 1:160,4:240")
    s.set_defaults(run=search)
    pg = sub.add_parser("page", help="train a recipe in the real playground")
    pg.add_argument("recipe", choices=list(RECIPES))
    pg.add_argument("--repeat", type=int, default=1)
    pg.set_defaults(run=page)
    c = sub.add_parser("cli", help="train a recipe with the CLI and check its bound")
    c.add_argument("recipe", choices=list(RECIPES))
    c.set_defaults(run=cli)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
