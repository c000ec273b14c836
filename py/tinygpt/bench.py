"""Benchmarks: the engines timed in this Python (`python -m tinygpt bench` in CPython,
bench/index.html in Pyodide, which calls `new_run`, `export_run` and `profile_steps`)."""

import json
import math
import statistics
import sys
import time
from pathlib import Path

from .settings import RUN_DEFAULTS
from .trainer import Trainer
from .work import MAX_PIECE_COST

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "public" / "data" / "first_names.txt"


def run(text, name, fast_steps, scalar_steps):
    """Median ms per step of both engines, in this process, on the same documents; then
    documents per second of the fast engine by batch. What `python -m tinygpt bench`
    prints."""
    print(f"Python {sys.version.split()[0]}, {name}, default configuration")
    times = {}
    for engine, steps in (("scalar", scalar_steps), ("fast", fast_steps)):
        trainer = Trainer(text, engine=engine, steps=max(steps, RUN_DEFAULTS["steps"]))
        times[engine] = []
        for _ in range(steps):
            start = time.perf_counter()
            trainer.step()
            times[engine].append((time.perf_counter() - start) * 1000)
    k = scalar_steps  # both engines train on the same first k documents
    scalar, fast_same = statistics.median(times["scalar"]), statistics.median(times["fast"][:k])
    fast_all = statistics.median(times["fast"])
    print(f"  scalar {scalar:9.2f} ms/step (median of {k} steps)")
    print(f"  fast   {fast_same:9.2f} ms/step (median of the same {k} steps)")
    print(
        f"  fast   {fast_all:9.2f} ms/step (median of {fast_steps} steps), "
        f"{1000 / fast_all:.0f} steps/s"
    )
    print(f"  ratio  fast is {scalar / fast_same:.1f}x faster than scalar")
    bench_batches(text, fast_steps)


BENCH_BATCHES, BENCH_ROUNDS = (1, 4, 8), 10


def bench_batches(text, docs):
    """Documents per second of the fast engine at each batch size.

    In each round every batch size trains on the same block of documents (a multiple
    of 8), one size after the other, so a busy machine slows them alike; a block's
    documents per second is its documents over its time (a per-step median would favour
    batch 1, whose short names take the short steps). Medians over the rounds.
    """
    rounds = max(1, min(BENCH_ROUNDS, docs // 8))
    block = max(8, docs // rounds // 8 * 8)
    trainers = {b: Trainer(text, engine="fast", batch=b, steps=max(docs, RUN_DEFAULTS["steps"]))
                for b in BENCH_BATCHES}
    step_ms = {b: [] for b in BENCH_BATCHES}
    rates = {b: [] for b in BENCH_BATCHES}
    for _ in range(rounds):
        for b, trainer in trainers.items():
            began = time.perf_counter()
            for _ in range(block // b):
                start = time.perf_counter()
                trainer.step()
                step_ms[b].append((time.perf_counter() - start) * 1000)
            rates[b].append(block / (time.perf_counter() - began))
    med = statistics.median
    print(f"  fast engine, documents per step (medians of {rounds} rounds of {block} documents):")
    for b in BENCH_BATCHES:
        ratio = med(r / r1 for r, r1 in zip(rates[b], rates[1]))
        print(
            f"  batch {b:2}  {med(step_ms[b]):7.2f} ms/step  {med(rates[b]):6.0f} docs/s"
            f"  {ratio:5.2f}x batch 1"
        )


# --- what the benchmark page calls (bench/bench.js) --------------------------------------
# How the benchmark's runs cut their steps into chunks (Trainer.piece_bound): as the page
# does, not at all, or a name per chunk.
PIECE_BOUNDS = {"page": MAX_PIECE_COST, "whole": math.inf, "names": 0.0}


def new_run(text, engine, batch=1, pieces="page"):
    """The default run (steps=1000 fixes the learning-rate schedule), its steps cut into
    chunks as PIECE_BOUNDS[pieces] says."""
    trainer = Trainer(text, engine=engine, batch=batch)
    trainer.piece_bound = PIECE_BOUNDS[pieces]
    return trainer


def export_run(trainer):
    """The initial weights and the document order, for the page's JavaScript port."""
    return json.dumps({"params": trainer.params, "docs": trainer.train_docs})


def profile_steps(trainer, n):
    """A cProfile of n steps, the 25 costliest functions."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        trainer.step()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    return out.getvalue()
