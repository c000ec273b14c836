"""The fast engine's inner loop: many dot products of one vector with many rows.

`rowdots(rows, v)` is `[dot(row, v) for row in rows]`. It runs on code generated
once per vector length, with the products written out:

    def rowdots_4(rows, v):
        a0, a1, a2, a3 = v
        return [a0 * b0 + a1 * b1 + a2 * b2 + a3 * b3 for b0, b1, b2, b3 in rows]

Why generate code? The obvious primitives are slower where it matters. In Pyodide
(CPython compiled to WebAssembly) `math.sumprod` computes every product in extended
precision with a software fma, about 40 ns per multiply-add, and `sum(map(mul, ...))`
allocates a float per product. Written-out products run on the interpreter's
specialised float instructions: 1.2x to 2x faster, in Pyodide and CPython alike
(`python -m tinygpt bench`). The sum is taken left to right, in the same order as
`sum()` in microgpt.py.
"""

import math
from itertools import repeat
from operator import mul

MAX_UNROLL = 64  # longer rows: the generated code would be large for little gain

_kernels = {}


def _generate(n):
    a = ", ".join(f"a{i}" for i in range(n))
    b = ", ".join(f"b{i}" for i in range(n))
    products = " + ".join(f"a{i} * b{i}" for i in range(n))
    source = (
        f"def rowdots_{n}(rows, v):\n"
        f"    {a}, = v\n"
        f"    return [{products} for {b}, in rows]\n"
    )
    namespace = {}
    exec(compile(source, f"<rowdots_{n}>", "exec"), namespace)
    return namespace[f"rowdots_{n}"]


try:  # Python >= 3.12: one C call per long dot product
    dot = math.sumprod

    def _long_rowdots(rows, v):
        return list(map(dot, rows, repeat(v)))

except AttributeError:  # Python 3.11

    def dot(a, b):
        return sum(map(mul, a, b))

    def _long_rowdots(rows, v):
        return [sum(map(mul, row, v)) for row in rows]


def rowdots(rows, v):
    """[dot(row, v) for row in rows]; every row must be as long as v."""
    n = len(v)
    kernel = _kernels.get(n)
    if kernel is None:
        kernel = _kernels[n] = _generate(n) if n <= MAX_UNROLL else _long_rowdots
    return kernel(rows, v)
