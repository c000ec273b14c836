"""Lesson 4, part 2 - a training run: data, model, optimizer and the step counter.

`Trainer` owns everything a run needs, so the CLI and the page drive the same code:
`step()` trains on the next batch of documents (one by default), `evaluate()` measures
the held-out loss, `sample()` generates, and `state()` / `from_state()` save and
continue a run exactly.
"""

import math
import time

from . import checkpoint, fast, model
from .data import Tokenizer, parse_documents, shuffle_documents, split_documents
from .errors import TinyGPTError
from .generate import Model
from .kernels import plain_sum
from .optim import Adam
from .settings import check, check_run_settings

# (params, config, [tokens, ...]) -> (mean loss of the documents, its gradients)
ENGINES = {"fast": fast.batch_loss_and_grads, "scalar": model.batch_loss_and_grads}
# One name's loss jumps too much to quote: the headline loss of a run without held-out
# names is the mean of this many last training losses (see headline_loss).
HEADLINE_STEPS = 100


class PendingRun:
    """A run being built: settings and documents checked and the vocabulary known at
    once; then `build` shuffles the documents and draws the weights, row by row, in as
    many pieces as its caller likes. The page builds a run in short tasks this way (see
    Session.begin_run): drawing costs a random.gauss per weight, and in one piece a model
    at the page's limit (150,000 weights) takes over 150 ms even in CPython, a long task.
    Trainer(text, **settings) does it all at once."""

    def __init__(self, text, settings):
        s = check_run_settings(settings)
        self.settings, self.text = s, text
        self.config = model.Config(s["n_embd"], s["n_head"], s["n_layer"], s["block_size"])
        self.docs = parse_documents(text)
        self.tokenizer = Tokenizer.from_docs(self.docs)  # the same for any order of docs
        self.rng = self.params = self._rows = None
        self._left = 0  # rows still to draw

    def build(self, deadline=None):
        """Shuffle, then draw weights (model.init_rows) until time.perf_counter() passes
        `deadline` (None: to the end); True when the run is whole. Each call does at least
        one piece. The random numbers come in microgpt.py's order: the shuffle's, then the
        weights'."""
        if self.rng is None:
            self.rng = shuffle_documents(self.docs, self.settings["seed"])
            shapes = model.param_shapes(self.config, self.tokenizer.vocab_size)
            self.params = {name: [] for name, _, _ in shapes}
            self._rows = model.init_rows(self.config, self.tokenizer.vocab_size, self.rng)
            self._left = sum(rows for _, rows, _ in shapes)
            if deadline is not None and time.perf_counter() >= deadline:
                return False
        for name, row in self._rows:
            self.params[name].append(row)
            self._left -= 1
            if deadline is not None and time.perf_counter() >= deadline:
                break
        return self._left == 0

    def use_weights(self, params):
        """A run that brings its own weights (a saved run being restored): the documents
        are shuffled as the run's seed says, and no fresh weights are drawn (the random
        generator's state comes from the saved run too)."""
        if self.rng is None:
            self.rng = shuffle_documents(self.docs, self.settings["seed"])
        self.params, self._rows, self._left = params, None, 0


class Trainer(Model):
    def __init__(self, text, **settings):
        self._build(PendingRun(text, settings))

    @staticmethod
    def begin(text, settings):
        """A PendingRun: the settings and the text checked, nothing drawn yet."""
        return PendingRun(text, settings)

    @classmethod
    def from_pending(cls, pending, params=None):
        """The run a PendingRun builds (what it has not built yet is built now), with its
        optimizer ready; with `params` (checked weights), those instead of fresh ones."""
        trainer = cls.__new__(cls)
        trainer._build(pending, params)
        return trainer

    def _build(self, pending, params=None):
        if params is None:
            pending.build()  # whatever is left of it
        else:
            pending.use_weights(params)
        s, config, tokenizer, rng = pending.settings, pending.config, pending.tokenizer, pending.rng
        super().__init__(config, tokenizer, pending.params)
        self.settings, self.text, self.rng = s, pending.text, rng
        self.train_docs, self.val_docs = split_documents(pending.docs, s["val_fraction"])
        self.optimizer = Adam(
            model.count_params(self.params), s["lr"], s["steps"], s["beta1"], s["beta2"], s["eps"]
        )
        self.step_count = 0
        self.losses = []

    @property
    def steps(self):
        return self.settings["steps"]

    @property
    def done(self):
        return self.step_count >= self.steps

    @property
    def engine(self):
        return self.settings["engine"]

    @engine.setter
    def engine(self, name):
        self.settings["engine"] = check("engine", name)

    @property
    def batch(self):
        return self.settings["batch"]

    def step_docs(self, k=None):
        """The training documents of step k (default: the next step): `batch` of them,
        taken in the shuffled order, k * batch + j for j < batch, wrapping around."""
        k = self.step_count if k is None else k
        docs, b = self.train_docs, self.batch
        return [docs[(k * b + j) % len(docs)] for j in range(b)]

    def step(self):
        """Train on the next batch of documents; returns its loss (before the update):
        the mean over the batch of each document's mean loss."""
        loss, grads = self.gradients()
        self.apply(loss, grads)
        return loss

    def gradients(self):
        """Loss and gradients on the next batch (the first half of a step)."""
        if self.done:
            raise TinyGPTError(f"This run has finished its {self.steps} steps.")
        k = self.step_count
        docs = [self.tokenizer.encode(doc) for doc in self.step_docs(k)]
        try:
            loss, grads = ENGINES[self.engine](self.params, self.config, docs)
        except (ValueError, OverflowError, ZeroDivisionError):
            loss = math.nan
        if not math.isfinite(loss):
            raise TinyGPTError(
                f"Training diverged at step {k + 1}: the loss is no longer a finite number. "
                "Lower the learning rate (try 0.01) and start again."
            )
        return loss, grads

    def apply(self, loss, grads):
        """The second half of a step: Adam moves the parameters, the step is counted."""
        # The scalar engine takes microgpt.py's update exactly; the fast one, its cheaper
        # rearrangement (equal up to rounding).
        update = self.optimizer.update_fast if self.engine == "fast" else self.optimizer.update
        try:
            params = update(self.params, grads, self.step_count)
        except (ArithmeticError, ValueError) as e:  # a gradient too large to square
            if isinstance(e, TinyGPTError):
                raise
            raise TinyGPTError(
                f"Training diverged at step {self.step_count + 1}: Adam's update overflowed. "
                "Lower the learning rate (try 0.01) and start again."
            ) from None
        self.params = params
        self.step_count += 1
        self.losses.append(loss)

    def evaluate(self, max_docs=None):
        """Mean per-document loss on the validation documents, or None without a split."""
        if not self.val_docs:
            return None
        return self.evaluate_docs(self.val_docs[:max_docs] if max_docs else self.val_docs)

    def model_file(self, meta=None):
        """The run's model as a model file (checkpoint.model_file), its meta saying the
        steps done, the batch and then `meta`, and the headline loss (of `meta`'s val_loss
        if it gives one) unless `meta` gives a loss."""
        info = {"steps": self.step_count, "batch": self.batch, **(meta or {})}
        info.setdefault("loss", headline_loss(self.losses, info.get("val_loss")))
        return checkpoint.model_file(self, info)

    # --- saving and continuing a run (the run format lives in checkpoint.py) ------------
    def state(self):
        """The whole run as JSON-able data, version 1 of the run format."""
        return checkpoint.run_state(self)

    def packed_state(self):
        """state() with its numbers packed (version 2): what the page saves."""
        return checkpoint.packed_run_state(self)

    @classmethod
    def from_state(cls, state, check=None):
        """A run from state() or packed_state(), checked field by field: it continues
        with exactly the losses of the run it was saved from. `check(pending)` (see
        checkpoint.load_run): the page's limits, before anything big is built."""
        return checkpoint.load_run(state, cls, check)


def headline_loss(losses, val_loss=None):
    """The one loss TinyGPT quotes for a run (the page's readout, saved models, cards,
    links, model files): the newest validation loss when names are held out, else the
    mean of the last HEADLINE_STEPS training losses; None before the first step."""
    if val_loss is not None:
        return val_loss
    recent = losses[-HEADLINE_STEPS:]
    return plain_sum(recent) / len(recent) if recent else None
