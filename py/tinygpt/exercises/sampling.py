"""Lesson 5's exercise: draw the next letter at a temperature with a given generator."""

import random

from .. import fast
from .base import Exercise, Mistake, Wrong, returned
from .compare import show

DRAWS = 12  # draws in a row per case, from one generator

SOLUTION = '''\
import math


def sample_next(logits, temperature, rng):
    """The id of the next token, drawn at random.

    logits: the model's scores, a list of floats. Divide them by the temperature, turn
    them into probabilities with a stable softmax, and draw one id with those
    probabilities from rng (a random.Random):
    rng.choices(range(len(logits)), weights=probs)[0].
    """
    scaled = [x / temperature for x in logits]  # before the softmax
    top = max(scaled)
    exps = [math.exp(x - top) for x in scaled]
    total = sum(exps)
    probs = [e / total for e in exps]
    return rng.choices(range(len(logits)), weights=probs)[0]
'''


def _with(old, new):
    assert old in SOLUTION, old
    return SOLUTION.replace(old, new)


def package_sample_next(logits, temperature, rng):
    """How Model.sample draws a token: fast.softmax_rows at the temperature, then
    rng.choices over the vocabulary."""
    probs = fast.softmax_rows([logits], temperature)[0]
    return rng.choices(range(len(logits)), weights=probs)[0]


def draws(function, case, check=False):
    rng = random.Random(case["seed"])
    ids = []
    for _ in range(DRAWS):
        before = rng.getstate() if check else None
        token = function(list(case["logits"]), case["temperature"], rng)
        if check:
            returned(token, "sample_next")
            if type(token) is not int or not 0 <= token < len(case["logits"]):
                raise Wrong(f"sample_next should return a token id, a whole number from 0 "
                            f"to {len(case['logits']) - 1}, not {show(token)}.")
            if rng.getstate() == before:
                raise Wrong("sample_next did not draw from rng: draw with rng.choices(...) "
                            "(the generator it is given), so that a seed fixes the names.")
        ids.append(token)
    return {"ids": ids}


def reference(case):
    return draws(package_sample_next, case)


def run(namespace, case):
    return draws(namespace["sample_next"], case, check=True)


def random_case(rng, size):
    return {
        "logits": [round(rng.uniform(-3, 3), 2) for _ in range(size)],
        "temperature": rng.choice((0.3, 0.5, 0.8, 1.0, 1.5, 2.0)),
        "seed": rng.randrange(1000),
    }


def show_case(case):
    return (f"logits = {show(case['logits'])}, temperature = {show(case['temperature'])}, "
            f"rng = random.Random({case['seed']})")


def explain(case, difference, expected, actual):
    return (f"With {show_case(case)}, {DRAWS} draws in a row should give "
            f"{show(expected['ids'])}; yours give {show(actual['ids'])}.")


COLD = {"logits": [2.0, 1.0, 0.1], "temperature": 0.3, "seed": 5}
HOT = {"logits": [2.0, 1.0, 0.1], "temperature": 2.0, "seed": 2}

EXERCISE = Exercise(
    id="sample",
    title="Sampling at a temperature",
    lesson="sampling",
    names=("sample_next",),
    subject="Your sample_next",
    solution=SOLUTION,
    fixed=(
        {"logits": [2.0, 1.0, 0.1], "temperature": 1.0, "seed": 1},
        COLD,
        HOT,
        {"logits": [100.0, 90.0, 80.0, 95.0], "temperature": 0.1, "seed": 4},
    ),
    random_case=random_case,
    sizes=(3, 2, 5, 9, 4, 27, 6, 8),
    run=run,
    reference=reference,
    explain=explain,
    show_case=show_case,
    mistakes=(
        Mistake(
            "temperature-after-softmax",
            "Divide the logits by the temperature before the softmax: dividing the "
            "probabilities afterwards changes nothing, since rng.choices only looks at "
            "the weights' proportions.",
            _with("probs = [e / total for e in exps]",
                  "probs = [e / total / temperature for e in exps]").replace(
                "scaled = [x / temperature for x in logits]  # before the softmax",
                "scaled = list(logits)"),
            COLD,
        ),
        Mistake(
            "temperature-multiplies",
            "Divide the logits by the temperature, don't multiply: a temperature below 1 "
            "must make the likely letters likelier.",
            _with("x / temperature for x in logits", "x * temperature for x in logits"),
            COLD,
        ),
        Mistake(
            "no-max-subtraction",
            "Subtract the largest scaled logit before exp: at temperature 0.1 a logit of "
            "100 becomes 1000, and math.exp(1000) overflows.",
            _with("exps = [math.exp(x - top) for x in scaled]",
                  "exps = [math.exp(x) for x in scaled]"),
            {"logits": [100.0, 90.0, 80.0, 95.0], "temperature": 0.1, "seed": 4},
        ),
    ),
)
