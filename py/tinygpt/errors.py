"""The one exception type that carries a message meant for people, not programmers."""

import math


class TinyGPTError(ValueError):
    """Bad input or a run that cannot go on; str() is one plain sentence saying what to do."""


def is_finite_number(x):
    """True for a finite int or float (not a bool): what saved numbers must be."""
    return not isinstance(x, bool) and isinstance(x, (int, float)) and math.isfinite(x)
