"""The one exception type that carries a message meant for people, not programmers."""

import math


class TinyGPTError(ValueError):
    """Bad input or a run that cannot go on; str() is one plain sentence saying what to do."""


# What a model whose arithmetic leaves the float range gets instead of a result (weights
# of 1e300 from a link: no trained model has weights like that).
OVERFLOW = ("This model's weights are far outside what training makes, and its arithmetic "
            "overflows: it cannot compute this. The file or link may be damaged (or made "
            "to break the page).")


def is_finite_number(x):
    """True for an int or float (not a bool) that is a finite float: what saved numbers must be.

    An int beyond the float range (JSON allows 400 digits) is refused, not an OverflowError.
    """
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return False
    try:
        return math.isfinite(x)
    except OverflowError:
        return False
