"""How long the pieces of training take, where the page runs them: each piece
(Trainer.train_piece: a chunk of a step's names, the last one with Adam) of the runs the
page offers, timed against its estimate (tinygpt.work), and what cutting batches costs.

    node scripts/pyodide_run.mjs scripts/measure_pieces.py [STEPS]

Pyodide under Node runs the page's WebAssembly. Times are CPU times of the process
(other jobs on a shared machine count less in them than in wall time); the ratios are
within one session. For each run: the longest piece, the 99th percentile, the number of
pieces per step, and the longest piece's time per unit of estimated cost (the unit is
the default run's step, work.DEFAULT_STEP_MS on the quiet test machine). Then documents
per second at batch 8, split as the page does it against whole steps (piece_bound =
math.inf) and against steps cut into chunks of one name (piece_bound = 0), in alternating
blocks of the same steps.
"""

import math
import sys
import time

from tinygpt import settings as table
from tinygpt import work
from tinygpt.trainer import Trainer

DATA = "/work/data"  # where pyodide_run.mjs puts public/data


def cpu_seconds():
    try:
        import js  # Pyodide under Node

        usage = js.process.cpuUsage()
        return (usage.user + usage.system) / 1e6
    except ImportError:
        return time.process_time()


def text(name):
    return open(f"{DATA}/{name}.txt", encoding="utf-8").read()


# The recipes on their costliest presets, and the lessons' widest links.
RUNS = [
    ("one-minute on cities", "cities", table.recipe_settings("one-minute")),
    ("one-minute on makemore's names", "makemore_names", table.recipe_settings("one-minute")),
    ("one-minute on first names", "first_names", table.recipe_settings("one-minute")),
    ("n_embd 32 on first names (lesson link)", "first_names", {"n_embd": 32}),
    ("n_layer 2 on pokemon (lesson link)", "pokemon", {"n_layer": 2}),
]


def default_step_ms():
    """The default run's step here and now: the unit of the estimates."""
    trainer = Trainer(text("first_names"), steps=100_000)
    for _ in range(20):
        trainer.step()
    start = cpu_seconds()
    for _ in range(200):
        trainer.step()
    return (cpu_seconds() - start) / 200 * 1000


def pieces(name, dataset, settings, steps, unit_ms):
    trainer = Trainer(text(dataset), **{**settings, "steps": steps + 20})
    for _ in range(10):  # the kernels compiled, as the page does before training
        trainer.step()
    times, per_step, ratios = [], [], []
    count = 0
    while trainer.step_count < steps + 10:
        cost = trainer.next_piece_cost()
        start = cpu_seconds()
        done = trainer.train_piece() is not None
        ms = (cpu_seconds() - start) * 1000
        times.append(ms)
        ratios.append(ms / unit_ms / cost)
        count += 1
        if done:
            per_step.append(count)
            count = 0
    times.sort()
    p99 = times[int(0.99 * (len(times) - 1))]
    print(f"{name}: {len(times)} pieces of {steps} steps ({max(per_step)} at most per step), "
          f"longest {times[-1]:.1f} ms, 99th percentile {p99:.1f} ms, median "
          f"{times[len(times) // 2]:.1f} ms; measured / estimated: {min(ratios):.2f} to "
          f"{max(ratios):.2f}", flush=True)


def throughput(dataset, steps, rounds=6):
    """Documents per second at batch 8: as the page cuts steps, whole, a name per chunk."""
    bounds = {"page": work.MAX_PIECE_COST, "whole": math.inf, "one name": 0.0}
    trainers = {}
    for label, bound in bounds.items():
        t = Trainer(text(dataset), **{**table.recipe_settings("one-minute"),
                                      "steps": rounds * steps + 20})
        t.piece_bound = bound
        for _ in range(5):
            t.step()
        trainers[label] = t
    seconds = dict.fromkeys(bounds, 0.0)
    for _ in range(rounds):  # blocks of the same steps, in turn: load drifts hit all alike
        for label, t in trainers.items():
            start = cpu_seconds()
            for _ in range(steps):
                t.step()
            seconds[label] += cpu_seconds() - start
    rate = {label: rounds * steps * 8 / s for label, s in seconds.items()}
    split = sum(len(work.chunk_ranges(t.config, t.tokenizer.vocab_size,
                                      [min(16, len(d) + 1) for d in t.step_docs(k)])) > 1
                for t in [trainers["page"]] for k in range(5, 5 + rounds * steps))
    print(f"batch 8 on {dataset}: {rate['page']:.0f} docs/s as the page cuts steps "
          f"({split} of {rounds * steps} steps cut), {rate['whole']:.0f} whole "
          f"(page / whole {rate['page'] / rate['whole']:.3f}), {rate['one name']:.0f} a name "
          f"per chunk (/ whole {rate['one name'] / rate['whole']:.3f})", flush=True)


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    unit = default_step_ms()
    print(f"default step: {unit:.2f} ms of CPU here (work.DEFAULT_STEP_MS: "
          f"{work.DEFAULT_STEP_MS}); piece bound {work.MAX_PIECE_COST} units, about "
          f"{work.MAX_PIECE_COST * unit:.0f} ms here", flush=True)
    for name, dataset, settings in RUNS:
        pieces(name, dataset, settings, steps, unit)
    for dataset in ("first_names", "cities"):
        throughput(dataset, max(10, steps // 10))


main()
