"""Lesson 4 - training: Adam with a linearly decaying learning rate.

The update is microgpt.py's, number for number (same operations in the same order),
so the scalar engine reproduces microgpt.py exactly. It runs over one flat list of all
parameters with list comprehensions: in Pyodide every Python-level operation counts,
and a comprehension over 4,000 numbers costs less than an indexed loop (and far less
than one comprehension per 16-number row).
"""

from itertools import chain

from .errors import TinyGPTError, is_finite_number


def flatten(state_dict, names):
    """All numbers of a state dict, matrix by matrix (in the order of `names`), row by row."""
    return list(chain.from_iterable(chain.from_iterable(state_dict[name] for name in names)))


def unflatten(flat, like):
    """A state dict shaped like `like`, filled from `flat`."""
    out, i = {}, 0
    for name, mat in like.items():
        cols = len(mat[0])
        out[name] = [flat[j : j + cols] for j in range(i, i + cols * len(mat), cols)]
        i += cols * len(mat)
    return out


class Adam:
    def __init__(self, params, lr=0.01, steps=1000, beta1=0.85, beta2=0.99, eps=1e-8):
        self.lr, self.steps, self.beta1, self.beta2, self.eps = lr, steps, beta1, beta2, eps
        n = sum(len(mat) * len(mat[0]) for mat in params.values())
        self.m = [0.0] * n  # running mean of the gradient, one number per parameter
        self.v = [0.0] * n  # running mean of its square

    def learning_rate(self, step):
        """lr_k = lr * (1 - k / steps): falls linearly to zero at the last step."""
        return self.lr * (1 - step / self.steps)

    def update(self, params, grads, step):
        """Step `step` (0-based): returns the new state dict; m and v change in place.

        Per number, as in microgpt.py:
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g ** 2
            p -= lr_k * (m / (1 - b1 ** (k + 1))) / ((v / (1 - b2 ** (k + 1))) ** 0.5 + eps)
        """
        b1, b2, eps = self.beta1, self.beta2, self.eps
        c1, c2 = 1 - b1, 1 - b2
        bc1, bc2 = 1 - b1 ** (step + 1), 1 - b2 ** (step + 1)
        lr_t = self.learning_rate(step)
        g = flatten(grads, params)  # the parameters' order, whatever order grads came in
        p = flatten(params, params)
        m = self.m = [b1 * m + c1 * g for m, g in zip(self.m, g)]
        v = self.v = [b2 * v + c2 * g**2 for v, g in zip(self.v, g)]
        p = [p - lr_t * (m / bc1) / ((v / bc2) ** 0.5 + eps) for p, m, v in zip(p, m, v)]
        return unflatten(p, params)

    def state(self):
        return {"m": list(self.m), "v": list(self.v)}

    def load_state(self, state):
        n = len(self.m)
        for key in ("m", "v"):
            values = state.get(key) if isinstance(state, dict) else None
            if not isinstance(values, list) or len(values) != n:
                raise TinyGPTError("The saved optimizer state does not match the model.")
            # A NaN moment would silently turn every weight into NaN at the next step.
            if not all(is_finite_number(x) for x in values):
                raise TinyGPTError(
                    "The saved optimizer state contains something that is not a finite number."
                )
            setattr(self, key, [float(x) for x in values])
