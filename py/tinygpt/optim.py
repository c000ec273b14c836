"""Lesson 4 - training: Adam with a linearly decaying learning rate.

`update` is microgpt.py's, number for number (same operations in the same order),
so the scalar engine reproduces microgpt.py exactly. `update_fast`, the fast engine's,
is the same formula rearranged to cost fewer operations; it differs by rounding only.
Both run over one flat list of all parameters: one plain loop is the cheapest way to
do it in Pyodide, where every Python-level operation counts.
"""

import math
from itertools import chain

from .errors import TinyGPTError, is_finite_number


def flatten(params, names):
    """All numbers of a state dict, matrix by matrix (in the order of `names`), row by row."""
    return list(chain.from_iterable(chain.from_iterable(params[name] for name in names)))


def unflatten(flat, like):
    """A state dict shaped like `like`, filled from `flat`."""
    out, i = {}, 0
    for name, mat in like.items():
        cols = len(mat[0])
        out[name] = [flat[j : j + cols] for j in range(i, i + cols * len(mat), cols)]
        i += cols * len(mat)
    return out


class Adam:
    def __init__(self, n_params, lr=0.01, steps=1000, beta1=0.85, beta2=0.99, eps=1e-8):
        self.lr, self.steps, self.beta1, self.beta2, self.eps = lr, steps, beta1, beta2, eps
        self.m = [0.0] * n_params  # running mean of the gradient
        self.v = [0.0] * n_params  # running mean of its square

    def learning_rate(self, step):
        """lr_k = lr * (1 - k / steps), for step k = 0 .. steps - 1: it falls linearly from
        lr at the first step to lr / steps at the last (it would reach 0 at k = steps)."""
        return self.lr * (1 - step / self.steps)

    def update(self, params, grads, step):
        """Step `step` (0-based): returns the new state dict; m and v change in place."""
        p, g = flatten(params, params), flatten(grads, params)
        m, v = self.m, self.v
        b1, b2, eps = self.beta1, self.beta2, self.eps
        c1, c2 = 1 - b1, 1 - b2
        bc1, bc2 = 1 - b1 ** (step + 1), 1 - b2 ** (step + 1)
        lr_t = self.learning_rate(step)
        for i in range(len(p)):
            gi = g[i]
            mi = m[i] = b1 * m[i] + c1 * gi
            vi = v[i] = b2 * v[i] + c2 * gi**2
            p[i] -= lr_t * (mi / bc1) / ((vi / bc2) ** 0.5 + eps)
        return unflatten(p, params)

    def update_fast(self, params, grads, step):
        """`update` with the bias corrections folded into two factors, g * g for g ** 2
        and math.sqrt for ** 0.5: a fifth fewer operations, the same numbers to about
        1e-16 (relative) per step."""
        p, g = flatten(params, params), flatten(grads, params)
        m, v = self.m, self.v
        b1, b2, eps, sqrt = self.beta1, self.beta2, self.eps, math.sqrt
        c1, c2 = 1 - b1, 1 - b2
        rate = self.learning_rate(step) / (1 - b1 ** (step + 1))
        unbias = 1 / (1 - b2 ** (step + 1))
        for i in range(len(p)):
            gi = g[i]
            mi = m[i] = b1 * m[i] + c1 * gi
            vi = v[i] = b2 * v[i] + c2 * gi * gi
            p[i] -= rate * mi / (sqrt(vi * unbias) + eps)
        return unflatten(p, params)

    def state(self):
        return {"m": list(self.m), "v": list(self.v)}

    def load_state(self, state):
        for key in ("m", "v"):
            values = state.get(key) if isinstance(state, dict) else None
            if not isinstance(values, list) or len(values) != len(self.m):
                raise TinyGPTError("The saved optimizer state does not match the model.")
            # A NaN moment would silently turn every weight into NaN at the next step.
            if not all(is_finite_number(x) for x in values):
                raise TinyGPTError(
                    "The saved optimizer state contains something that is not a finite number."
                )
            values = [float(x) for x in values]
            # v is a running mean of squares: no real run has a negative one, and its
            # square root at the next step would fail.
            if key == "v" and values and min(values) < 0:
                raise TinyGPTError("The saved optimizer state is damaged: a running mean of "
                                   "squared gradients (Adam's v) is negative.")
            setattr(self, key, values)
