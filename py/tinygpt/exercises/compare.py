"""Comparing a learner's results with the package's, and writing numbers into messages.

A result is plain data (dicts, lists, floats, ints, strings) that an exercise's `run`
built from what the learner's code returned. Numbers agree when they are within 1e-9 of
each other relative to their size (math.isclose; 1e-12 absolute near 0, where a relative
tolerance means nothing): the learner may add in another order than the package does.
"""

import math
from dataclasses import dataclass

REL_TOL = 1e-9
ABS_TOL = 1e-12
MAX_ITEMS = 12  # items of a list shown in a message


def is_number(x):
    return type(x) in (int, float)


def close(expected, actual):
    if not is_number(actual):
        return False
    if math.isnan(expected) or math.isnan(actual):
        return math.isnan(expected) and math.isnan(actual)
    return math.isclose(expected, actual, rel_tol=REL_TOL, abs_tol=ABS_TOL)


@dataclass(frozen=True)
class Difference:
    """Where two results part: `path` (keys and indices from the top), and the two
    values found there."""

    path: tuple
    expected: object
    actual: object

    @property
    def key(self):
        return self.path[0] if self.path else None

    @property
    def index(self):
        """The first list index on the path (which position, logit, parameter ...)."""
        return next((p for p in self.path[1:] if isinstance(p, int)), None)


def first_difference(expected, actual, path=()):
    """The first place where `actual` is not `expected` (within the tolerance), or None."""
    if isinstance(expected, dict):
        for key, value in expected.items():
            found = first_difference(value, actual.get(key) if isinstance(actual, dict) else None,
                                     path + (key,))
            if found:
                return found
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return Difference(path, expected, actual)
        for i, (e, a) in enumerate(zip(expected, actual)):
            found = first_difference(e, a, path + (i,))
            if found:
                return found
        return None
    if type(expected) is float:
        return None if close(expected, actual) else Difference(path, expected, actual)
    same = type(expected) is type(actual) and expected == actual
    return None if same else Difference(path, expected, actual)


def same(expected, actual):
    return first_difference(expected, actual) is None


# --- numbers in sentences ------------------------------------------------------------


def show(value, digits=6):
    """A value as a reader wants it in a sentence: floats to `digits` significant digits,
    long lists cut."""
    if type(value) is float:
        if math.isnan(value) or math.isinf(value):
            return str(value)
        text = f"{value:.{digits}g}"
        return text if ("." in text or "e" in text or "n" in text) else text + ".0"
    if isinstance(value, (list, tuple)):
        items = [show(v, digits) for v in value[:MAX_ITEMS]]
        if len(value) > MAX_ITEMS:
            items.append(f"… ({len(value)} in all)")
        return "[" + ", ".join(items) + "]"
    if isinstance(value, str):
        text = repr(value)
        return text if len(text) <= 80 else text[:79] + "…'"
    if value is None or type(value) in (int, bool):
        return repr(value)
    name = type(value).__name__
    return f"a {name}" if name[0] not in "aeiouAEIOU" else f"an {name}"


def show_pair(expected, actual):
    """`expected` and `actual` shown with enough digits that they look different."""
    for digits in (6, 9, 12, 17):
        a, b = show(expected, digits), show(actual, digits)
        if a != b:
            return a, b
    return show(expected, 17), show(actual, 17)
