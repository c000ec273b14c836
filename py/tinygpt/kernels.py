"""The fast engine's inner loop: many dot products of one vector with many rows.

`rowdots(rows, v)` is `[dot(row, v) for row in rows]`. It runs on code generated
once per vector length, with the products written out:

    def rowdots_4(rows, v):
        a0, a1, a2, a3 = v
        return [a0 * b0 + a1 * b1 + a2 * b2 + a3 * b3 for b0, b1, b2, b3 in rows]

Why generate code? The obvious primitives are slower where it matters, and they are
not the same in every Python. In Pyodide (CPython compiled to WebAssembly)
`math.sumprod` computes every product in extended precision with a software fma,
about 40 ns per multiply-add, and `sum(map(mul, ...))` allocates a float per product;
since Python 3.12, `sum()` of floats also compensates rounding errors, so it gives
other last bits than 3.11. Written-out products run on the interpreter's specialised
float instructions: 1.2x to 2x faster, in Pyodide and CPython alike
(`python -m tinygpt bench`). Every sum here is taken plainly, left to right, in the
same order as microgpt.py, so CPython 3.11 and Pyodide's 3.14 give the same sums, bit
for bit. (The losses still differ in the last bits: Pyodide's libm rounds a few results
of exp and ** differently, 14 and 13 of 20,000 random arguments when measured.)
"""

import math
import time
from functools import reduce
from operator import add, mul

MAX_UNROLL = 64  # longer rows: the generated code would be large for little gain

_rowdots, _dots = {}, {}


def _compile(name, source):
    namespace = {}
    exec(compile(source, f"<{name}>", "exec"), namespace)
    return namespace[name]


def _generate_rowdots(n):
    a = ", ".join(f"a{i}" for i in range(n))
    b = ", ".join(f"b{i}" for i in range(n))
    products = " + ".join(f"a{i} * b{i}" for i in range(n))
    return _compile(
        f"rowdots_{n}",
        f"def rowdots_{n}(rows, v):\n    {a}, = v\n    return [{products} for {b}, in rows]\n",
    )


def _generate_dot(n):
    a = ", ".join(f"a{i}" for i in range(n))
    b = ", ".join(f"b{i}" for i in range(n))
    products = " + ".join(f"a{i} * b{i}" for i in range(n))
    return _compile(
        f"dot_{n}", f"def dot_{n}(a, b):\n    {a}, = a\n    {b}, = b\n    return {products}\n"
    )


def plain_sum(xs):
    """sum() of floats as Python 3.11 takes it: no compensation, left to right."""
    return reduce(add, xs, 0.0)


def _long_dot(a, b):
    return plain_sum(map(mul, a, b))


def _long_rowdots(rows, v):
    return [plain_sum(map(mul, row, v)) for row in rows]


def prepare(lengths, deadline):
    """Generate the kernels for these vector lengths until perf_counter() passes
    `deadline`; True once all are there. Each costs about a millisecond to compile in
    Pyodide: the page makes them in short idle tasks after it starts (Session.prepare)
    rather than in the first training steps, which they would make long."""
    for n in lengths:
        if time.perf_counter() >= deadline:
            return False
        if 0 < n <= MAX_UNROLL:
            if n not in _dots:
                _dots[n] = _generate_dot(n)
            if n not in _rowdots:
                _rowdots[n] = _generate_rowdots(n)
    return True


_warm = False  # every kernel up to MAX_UNROLL is there


def warm_up(deadline):
    """prepare() every length up to MAX_UNROLL (what any model's rows need) until
    perf_counter() passes `deadline`, but at least one (so that calls with no time left
    still get there); True once all are there (then at once)."""
    global _warm
    if not _warm:
        missing = [n for n in range(1, MAX_UNROLL + 1) if n not in _dots or n not in _rowdots]
        _warm = prepare(missing[:1], math.inf) and prepare(missing[1:], deadline)
    return _warm


def dot(a, b):
    """The dot product of two equally long vectors."""
    n = len(a)
    kernel = _dots.get(n)
    if kernel is None:
        kernel = _dots[n] = _generate_dot(n) if 0 < n <= MAX_UNROLL else _long_dot
    return kernel(a, b)


def rowdots(rows, v):
    """[dot(row, v) for row in rows]; every row must be as long as v."""
    n = len(v)
    kernel = _rowdots.get(n)
    if kernel is None:
        kernel = _rowdots[n] = _generate_rowdots(n) if 0 < n <= MAX_UNROLL else _long_rowdots
    return kernel(rows, v)
