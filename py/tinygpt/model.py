"""Lesson 3 - the transformer: configuration, parameters, and the GPT on `Value`s.

This is the scalar engine: every number is a `Value`, so `backward()` can find every
gradient. It follows microgpt.py operation for operation (one position at a time,
with a cache of keys and values), which makes it slow but easy to read and check.
`fast.py` computes the same function on whole vectors.
"""

import gc
from contextlib import contextmanager
from dataclasses import asdict, dataclass

from .errors import TinyGPTError
from .settings import check, check_model_shape, short
from .value import Value

INIT_STD = 0.08
RMS_EPS = 1e-5


@dataclass(frozen=True)
class Config:
    n_embd: int = 16
    n_head: int = 4
    n_layer: int = 1
    block_size: int = 16

    def __post_init__(self):  # the limits are the settings table's (settings.py)
        for name in ("n_embd", "n_head", "n_layer", "block_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TinyGPTError(f"{name} must be a whole number, not {short(value)}.")
            check(name, value)
        check_model_shape(self.n_embd, self.n_head)

    @property
    def head_dim(self):
        return self.n_embd // self.n_head

    def as_dict(self):
        return asdict(self)


def param_shapes(config, vocab_size):
    """(name, rows, cols) of every matrix, in the order they are initialised."""
    E = config.n_embd
    shapes = [("wte", vocab_size, E), ("wpe", config.block_size, E), ("lm_head", vocab_size, E)]
    for i in range(config.n_layer):
        shapes += [
            (f"layer{i}.attn_wq", E, E),
            (f"layer{i}.attn_wk", E, E),
            (f"layer{i}.attn_wv", E, E),
            (f"layer{i}.attn_wo", E, E),
            (f"layer{i}.mlp_fc1", 4 * E, E),
            (f"layer{i}.mlp_fc2", E, 4 * E),
        ]
    return shapes


def init_params(config, vocab_size, rng):
    """A state dict of plain floats: each matrix (out, in), row by row, gauss(0, 0.08)."""
    params = {name: [] for name, _, _ in param_shapes(config, vocab_size)}
    for name, row in init_rows(config, vocab_size, rng):
        params[name].append(row)
    return params


def init_rows(config, vocab_size, rng):
    """init_params' rows in its order, one at a time: (matrix name, row). A caller can
    stop between rows (the page draws a run's weights a few rows per task)."""
    for name, rows, cols in param_shapes(config, vocab_size):
        for _ in range(rows):
            yield name, [rng.gauss(0, INIT_STD) for _ in range(cols)]


def count_params(params):
    """How many numbers a state dict holds: the model's parameter count, the one the
    page, the files and the lessons quote (for a model not built yet: of blank_params)."""
    return sum(len(row) for matrix in params.values() for row in matrix)


def blank_params(config, vocab_size):
    """A state dict of the right shapes, all zeros, each matrix's rows one shared list:
    for shapes and counts (a model too big to build is measured this way), not to train."""
    return {name: [[0.0] * cols] * rows for name, rows, cols in param_shapes(config, vocab_size)}


# --- the GPT on Values, as in microgpt.py ---------------------------------------------


def linear(x, w):
    return [sum(wi * xi for wi, xi in zip(wo, x)) for wo in w]


def softmax(logits):
    max_val = max(val.data for val in logits)
    exps = [(val - max_val).exp() for val in logits]
    total = sum(exps)
    return [e / total for e in exps]


def rmsnorm(x):
    ms = sum(xi * xi for xi in x) / len(x)
    scale = (ms + RMS_EPS) ** -0.5
    return [xi * scale for xi in x]


def gpt(state, config, token_id, pos_id, keys, values, attention=None):
    """Logits for the next token after `token_id` at `pos_id`; appends to the k/v caches.

    `attention`, if a list of per-layer lists, receives each head's weights (floats).
    """
    n_head, head_dim = config.n_head, config.head_dim
    x = [t + p for t, p in zip(state["wte"][token_id], state["wpe"][pos_id])]
    x = rmsnorm(x)
    for li in range(config.n_layer):
        x_residual = x
        x = rmsnorm(x)
        q = linear(x, state[f"layer{li}.attn_wq"])
        k = linear(x, state[f"layer{li}.attn_wk"])
        v = linear(x, state[f"layer{li}.attn_wv"])
        keys[li].append(k)
        values[li].append(v)
        x_attn = []
        for h in range(n_head):
            hs = h * head_dim
            q_h = q[hs : hs + head_dim]
            k_h = [ki[hs : hs + head_dim] for ki in keys[li]]
            v_h = [vi[hs : hs + head_dim] for vi in values[li]]
            attn_logits = [
                sum(q_h[j] * k_h[t][j] for j in range(head_dim)) / head_dim**0.5
                for t in range(len(k_h))
            ]
            attn_weights = softmax(attn_logits)
            if attention is not None:
                attention[li][h].append([w.data for w in attn_weights])
            head_out = [
                sum(attn_weights[t] * v_h[t][j] for t in range(len(v_h))) for j in range(head_dim)
            ]
            x_attn.extend(head_out)
        x = linear(x_attn, state[f"layer{li}.attn_wo"])
        x = [a + b for a, b in zip(x, x_residual)]
        x_residual = x
        x = rmsnorm(x)
        x = linear(x, state[f"layer{li}.mlp_fc1"])
        x = [xi.relu() for xi in x]
        x = linear(x, state[f"layer{li}.mlp_fc2"])
        x = [a + b for a, b in zip(x, x_residual)]
    return linear(x, state["lm_head"])


def document_loss(state, config, tokens):
    """Mean cross-entropy of predicting tokens[p+1] from tokens[:p+1], as a Value."""
    n = min(config.block_size, len(tokens) - 1)
    keys, values = [[] for _ in range(config.n_layer)], [[] for _ in range(config.n_layer)]
    losses = []
    for pos_id in range(n):
        token_id, target_id = tokens[pos_id], tokens[pos_id + 1]
        logits = gpt(state, config, token_id, pos_id, keys, values)
        probs = softmax(logits)
        losses.append(-probs[target_id].log())
    return (1 / n) * sum(losses)


def loss_and_grads(params, config, tokens):
    """The scalar engine: (loss, grads) of one document, grads shaped like params."""
    return batch_loss_and_grads(params, config, [tokens])


def batch_loss_and_grads(params, config, docs):
    """(loss, grads) of a batch of documents: the mean of their losses and its gradients.

    Gradient accumulation, the autograd way: the parameters are the same `Value`s for
    every document, and each document's graph is built and sent backward in turn,
    seeded with 1/B (the document's weight in the mean). `backward` adds to `.grad`,
    so the parameters end up holding the gradient of the mean; only one document's
    graph is alive at a time.
    """
    gradients = BatchGradients(params, config, len(docs))
    gradients.add(docs)
    return gradients.result()


class BatchGradients:
    """batch_loss_and_grads a chunk of documents at a time (`add`), so that each chunk
    (the page's: one document) can be its own task. The parameters' Values live from one
    chunk to the next and keep adding up the gradient, so any chunking gives exactly the
    numbers of one batch_loss_and_grads."""

    def __init__(self, params, config, batch):
        self.config, self.batch, self.total = config, batch, 0.0
        with collector_paused():
            self.state = {name: [[Value(w) for w in row] for row in m]
                          for name, m in params.items()}

    def add(self, docs):
        with collector_paused():  # the graphs are built, used and freed inside
            for tokens in docs:
                self.total += self._backward(tokens)

    def _backward(self, tokens):
        """One document's graph, built and sent backward; it is freed as this returns
        (inside the pause: no collection walks it)."""
        loss = document_loss(self.state, self.config, tokens)
        if self.batch == 1:
            loss.backward()  # microgpt.py's step, exactly
        else:
            (loss * (1 / self.batch)).backward()
        return loss.data

    def result(self):
        """(loss, grads) of the documents added so far, as a share of the batch's mean."""
        with collector_paused():
            grads = {name: [[float(w.grad) for w in row] for row in m]
                     for name, m in self.state.items()}
        return self.total / self.batch, grads


@contextmanager
def collector_paused():
    """Python's cyclic garbage collector paused (if it was running) for a while. A graph of
    Values holds no cycles (a Value points only to those it was made from), so reference
    counting frees it, and the collector's passes over a step's tens of thousands of new
    Values took 40% of the step's time (CPython 3.11). Free the graph before the pause
    ends: the first collection after it would walk every Value still alive."""
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()
