"""Checking code that works on `Value`s: inputs made into Values, outputs checked for
shape, and a scalar L = sum of w * output (fixed weights w) sent backward, so every
input's gradient can be compared with what the package's own code gives."""

import math

from ..value import Value
from .base import Wrong
from .compare import show


def leaves(numbers):
    return [Value(float(x)) for x in numbers]


def leaf_rows(rows):
    return [leaves(row) for row in rows]


def need_values(items, length, what, cls=Value):
    """`items` as a list of `length` Values, or Wrong saying what is the matter."""
    if type(items) not in (list, tuple):
        raise Wrong(f"{what} should be a list of {length} Values, not {show(items)}.")
    if len(items) != length:
        raise Wrong(f"{what} should hold {length} Values (one each), not {len(items)}.")
    for i, item in enumerate(items):
        if not isinstance(item, cls):
            raise Wrong(
                f"Item {i} of {what} is {show(item)} (a {type(item).__name__}), not a Value: "
                "build it with Value operations so that backward() can reach the inputs."
            )
    return list(items)


def number(x, what):
    if type(x) not in (int, float):
        raise Wrong(f"{what} is {show(x)}, not a number.")
    return float(x)


def data(values, what):
    return [number(v.data, f"{what}[{i}].data") for i, v in enumerate(values)]


def grads(values, what):
    return [number(v.grad, f"{what}[{i}].grad") for i, v in enumerate(values)]


def weighted_sum(outputs, weights):
    """L = w[0] * out[0] + w[1] * out[1] + ..., built from Value operations."""
    total = outputs[0] * weights[0]
    for out, w in zip(outputs[1:], weights[1:]):
        total = total + out * w
    return total


def show_weights(weights, name="p"):
    """"0.5·p[0] − 1.25·p[1]" for a sentence (up to six terms)."""
    if len(weights) > 6:
        return f"the sum of w[i]·{name}[i] with w = {show(weights)}"
    terms = []
    for i, w in enumerate(weights):
        sign = "−" if w < 0 else "+"
        term = f"{show(abs(w))}·{name}[{i}]"
        terms.append(term if not terms and w >= 0 else f"{sign} {term}" if terms else f"−{term}")
    return " ".join(terms)


def rounded(rng, low, high, n):
    """n numbers drawn from [low, high], two decimals: short to show, exact to type."""
    return [round(rng.uniform(low, high), 2) for _ in range(n)]


def numeric_gradient(f, xs, i, h=1e-6):
    """Central difference (f(x + h) - f(x - h)) / 2h in coordinate i: an estimate
    independent of any backward pass, shown beside the expected gradient."""
    up, down = list(xs), list(xs)
    up[i] += h
    down[i] -= h
    try:
        return (f(up) - f(down)) / (2 * h)
    except (ArithmeticError, ValueError):
        return math.nan
