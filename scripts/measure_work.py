"""How long one training step takes, for many shapes of run: the data behind
tinygpt.work's cost model (the bound on one step's work).

Run it where the page runs Python, in Pyodide (Node, no browser needed):

    node scripts/pyodide_run.mjs scripts/measure_work.py steps 90 > steps.jsonl
    .venv/bin/python scripts/measure_work.py fit steps.jsonl

scripts/measure_work.jsonl holds the runs behind tinygpt/work.py's coefficients (timed on
the 2-core test machine, 2026-12; `fit scripts/measure_work.jsonl` gives them again).

`steps N` times N runs drawn at random (model size, heads, layers, block, batch, line
length, vocabulary, engine) plus the default run, each the fastest of a few steps, and
prints one JSON object per run with its features (tinygpt.work.features) and its
milliseconds. `fit` finds the cost model's coefficients (least squares on the relative
error, no negative coefficients), relative to the default run's step measured in the same
session: times on a loaded machine are not comparable across sessions, ratios are.
"""

import json
import math
import random
import sys
import time

from tinygpt import work
from tinygpt.trainer import Trainer

DEFAULT = {"n_embd": 16, "n_head": 4, "n_layer": 1, "block_size": 16, "batch": 1,
           "engine": "fast"}
DEFAULT_LINE = 6  # US first names: 6 letters on average (7 positions)


def letters(count):
    """`count` distinct printable letters: a-z, then Latin letters with accents."""
    return [chr(97 + i) if i < 26 else chr(0x100 + i) for i in range(count)]


def text_for(vocab, length, lines=64):
    """Lines of exactly `length` letters using exactly vocab - 1 letters in all."""
    chars = letters(vocab - 1)
    return "\n".join("".join(chars[(i * length + j) % len(chars)] for j in range(length))
                     for i in range(lines)) + "\n"


def cpu_seconds():
    """The process's CPU time: other jobs on a busy machine do not count in it, as they do
    in the wall-clock time. (Pyodide's time.process_time is wall time; Node knows.)"""
    try:
        import js  # Pyodide under Node

        usage = js.process.cpuUsage()
        return (usage.user + usage.system) / 1e6
    except ImportError:
        return time.process_time()


def time_step(settings, vocab, length, repeat):
    """Milliseconds of CPU per step: the least of `repeat` blocks of steps, each block
    long enough (about 40 ms) for the clock's resolution not to matter."""
    trainer = Trainer(text_for(vocab, length), steps=100_000, **settings)
    trainer.piece_bound = math.inf  # the features describe a step computed whole
    start = cpu_seconds()
    trainer.step()  # compiles the kernels of these lengths
    first = max(cpu_seconds() - start, 1e-4)
    per_block = max(1, min(50, round(0.04 / first)))
    best = float("inf")
    for _ in range(repeat):
        start = cpu_seconds()
        for _ in range(per_block):
            trainer.step()
        best = min(best, (cpu_seconds() - start) / per_block)
    return best * 1000, trainer


def record(settings, vocab, length, repeat=3):
    ms, trainer = time_step(settings, vocab, length, repeat)
    positions = min(settings["block_size"], length + 1)
    row = {**settings, "vocab": vocab, "line": length, "ms": ms,
           "features": work.features(trainer.config, vocab, settings["batch"], positions)}
    print(json.dumps(row), flush=True)


def random_run(rng):
    engine = "scalar" if rng.random() < 0.3 else "fast"
    n_embd = rng.choice([4, 8, 16, 32, 48, 64, 96] if engine == "fast" else [4, 8, 16, 32])
    n_head = rng.choice([h for h in (1, 2, 4, 8) if n_embd % h == 0])
    n_layer = rng.choice([1, 1, 2, 4, 8] if engine == "fast" else [1, 2])
    block = rng.choice([8, 16, 32, 64, 128, 256] if engine == "fast" else [8, 16, 32])
    length = rng.choice([3, 6, 15, 30, 60, 120, 255])
    batch = rng.choice([1, 2, 4, 8])
    vocab = rng.choice([10, 27, 60, 120, 257])
    return {"n_embd": n_embd, "n_head": n_head, "n_layer": n_layer, "block_size": block,
            "batch": batch, "engine": engine}, vocab, length


# Runs the page must keep training: the recipes (8 names per step) on the presets' longest
# lines (cities: 119 tokens, lines past the block; makemore's names: 15 letters), the
# lessons' links (wider, deeper, the lesson engine).
NAMED = [
    ({**DEFAULT, "batch": 8}, 119, 49),
    ({**DEFAULT, "batch": 8}, 27, 15),
    ({**DEFAULT, "n_embd": 32}, 27, 11),
    ({**DEFAULT, "n_layer": 2}, 36, 12),
    ({**DEFAULT, "engine": "scalar"}, 27, 11),
    ({**DEFAULT, "engine": "scalar"}, 27, DEFAULT_LINE),
]


def steps(count):
    rng = random.Random(18)
    record(DEFAULT, 27, DEFAULT_LINE, repeat=20)
    for settings, vocab, length in NAMED:
        record(settings, vocab, length)
    done = 0
    while done < count:
        settings, vocab, length = random_run(rng)
        positions = min(settings["block_size"], length + 1)
        config = work.Config(*(settings[k] for k in ("n_embd", "n_head", "n_layer",
                                                     "block_size")))
        # Runs far past any bound take long to time and teach nothing: skip them.
        if work.step_cost(config, vocab, settings["batch"], positions,
                          settings["engine"]) > 40 * work.MAX_STEP_COST[settings["engine"]]:
            continue
        record(settings, vocab, length)
        done += 1
    record(DEFAULT, 27, DEFAULT_LINE, repeat=20)


def fit(path):
    rows = [json.loads(line) for line in open(path) if line.startswith("{")]
    default = min(r["ms"] for r in rows if r["line"] == DEFAULT_LINE and r["vocab"] == 27
                  and all(r[k] == v for k, v in DEFAULT.items()))
    for r in rows:  # the features as work.py computes them now
        config = work.Config(*(r[k] for k in ("n_embd", "n_head", "n_layer", "block_size")))
        positions = min(r["block_size"], r["line"] + 1)
        r["features"] = work.features(config, r["vocab"], r["batch"], positions)
    for engine in ("fast", "scalar"):
        data = [r for r in rows if r["engine"] == engine]
        names = sorted(data[0]["features"])
        coefficients = _nnls_relative([[r["features"][n] for n in names] for r in data],
                                      [r["ms"] / default for r in data])
        model = dict(zip(names, coefficients))
        print(f"{engine}: {len(data)} runs; coefficients (default step = 1):")
        print(json.dumps({n: float(f"{c:.4g}") for n, c in model.items()}, indent=1))
        ratios = sorted((sum(model[n] * r["features"][n] for n in names) * default / r["ms"], r)
                        for r in data)
        for ratio, r in ratios[:3] + ratios[-3:]:
            print(f"  predicted / measured {ratio:.2f}: {r['ms']:.1f} ms",
                  {k: r[k] for k in ("n_embd", "n_head", "n_layer", "block_size", "batch",
                                     "vocab", "line")})


def _nnls_relative(X, y, rounds=200):
    """min sum(((X c) - y) / y)^2 over c >= 0: coordinate descent on the weighted normal
    equations (a handful of features: plain Python is enough)."""
    k = len(X[0])
    w = [1 / v / v for v in y]
    A = [[sum(wi * x[i] * x[j] for wi, x in zip(w, X)) for j in range(k)] for i in range(k)]
    b = [sum(wi * x[i] * yi for wi, x, yi in zip(w, X, y)) for i in range(k)]
    c = [0.0] * k
    for _ in range(rounds):
        for i in range(k):
            if A[i][i] <= 0:
                continue
            rest = b[i] - sum(A[i][j] * c[j] for j in range(k) if j != i)
            c[i] = max(0.0, rest / A[i][i])
    return c


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "steps":
        steps(int(sys.argv[2]) if len(sys.argv) > 2 else 60)
    elif len(sys.argv) == 3 and sys.argv[1] == "fit":
        fit(sys.argv[2])
    else:
        print(__doc__)
        sys.exit(2)
