"""Lesson 4, part 2 - a training run: data, model, optimizer and the step counter.

`Trainer` owns everything a run needs, so the CLI and the page drive the same code:
`step()` trains on the next batch of documents (one by default), `evaluate()` measures
the held-out loss, `sample()` generates, and `state()` / `from_state()` save and
continue a run exactly.

A step on a batch whose work would make a long task is computed in pieces: its
documents in chunks (work.chunk_ranges), whose gradients add up to the batch's, then
Adam once. `step()` runs them all; the page runs one per task (`train_piece`). Both cut
every step alike, so the page's run is the CLI's.
"""

import math
import time

from . import checkpoint, fast, model, work
from .data import Tokenizer, parse_documents, shuffle_documents, split_documents
from .errors import TinyGPTError
from .generate import Model
from .kernels import plain_sum
from .optim import Adam
from .settings import check, check_run_settings

# (params, config, batch) -> the gradients of a batch of that many documents, a chunk at a
# time: .add([tokens, ...]) a chunk, .result() -> (mean loss of the batch, its gradients)
ENGINES = {"fast": fast.BatchGradients, "scalar": model.BatchGradients}
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
        # The most a chunk of a step's documents may cost (work.MAX_PIECE_COST; the
        # benchmark sets math.inf to time steps whole).
        self.piece_bound = work.MAX_PIECE_COST
        self._partial = None  # the step in progress (_PartialStep), between pieces

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

    def train_piece(self):
        """One piece of step(): the gradients of the next chunk of the batch's documents,
        and after the last chunk the update (apply). Returns the step's loss once the
        step is done, else None. What a step in progress has gathered is not part of the
        run: state() saves whole steps only, and a step whose engine, weights or documents
        change between its pieces starts over."""
        if not self._gradient_piece():
            return None
        loss, grads = self._finish_gradients()
        self.apply(loss, grads)
        return loss

    def next_piece_cost(self):
        """The estimated cost of the piece train_piece runs next, in work's units
        (default steps): the scheduler's guess of whether it fits a task."""
        partial = self._step_in_progress()
        return partial.costs[partial.next]

    def gradients(self):
        """Loss and gradients on the next batch (the first half of a step): its chunks'
        gradients added up (the rest of them, if train_piece began the step)."""
        while not self._gradient_piece():
            pass
        return self._finish_gradients()

    def _step_in_progress(self):
        partial = self._partial
        if partial is None or not partial.belongs_to(self):
            if self.done:
                raise TinyGPTError(f"This run has finished its {self.steps} steps.")
            partial = self._partial = _PartialStep(self)
        return partial

    def _gradient_piece(self):
        """Add the next chunk's gradients; True once they are the whole batch's."""
        partial = self._step_in_progress()
        try:
            partial.gradients.add(partial.chunks[partial.next])
        except (ValueError, OverflowError, ZeroDivisionError):
            self._partial = None
            raise _diverged(partial.step) from None
        partial.next += 1
        return partial.next == len(partial.chunks)

    def _finish_gradients(self):
        partial, self._partial = self._partial, None
        loss, grads = partial.gradients.result()
        if not math.isfinite(loss):
            raise _diverged(partial.step)
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
        self._partial = None

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


class _PartialStep:
    """A step being computed in pieces: its documents' chunks, each one's estimated cost,
    how many are done, and their gradients so far. It belongs to the trainer's step,
    engine, weights and documents of when it began (checked by identity: cheap)."""

    def __init__(self, trainer):
        t = trainer
        self.step, self.engine, self.params = t.step_count, t.engine, t.params
        self.docs_of, self.batch = t.train_docs, t.batch
        docs = [t.tokenizer.encode(doc) for doc in t.step_docs(self.step)]
        positions = [min(t.config.block_size, len(tokens) - 1) for tokens in docs]
        vocab = t.tokenizer.vocab_size
        if len(docs) == 1:  # nothing to cut, nor to estimate but for the scheduler
            ranges = [(0, 1)]
        else:
            ranges = work.chunk_ranges(t.config, vocab, positions, self.engine, t.piece_bound)
        self.chunks = [docs[a:b] for a, b in ranges]
        self.costs = [work.batch_cost(t.config, vocab, positions[a:b], self.engine)
                      for a, b in ranges]
        self.next = 0
        self.config = t.config
        self._gradients = None

    @property
    def gradients(self):
        """The engine's BatchGradients, made when the first chunk needs it (a step only
        estimated is cheap)."""
        if self._gradients is None:
            self._gradients = ENGINES[self.engine](self.params, self.config, self.batch)
        return self._gradients

    def belongs_to(self, t):
        return (self.step == t.step_count and self.engine == t.engine and self.params is t.params
                and self.docs_of is t.train_docs and self.batch == t.batch)


def _diverged(k):
    return TinyGPTError(
        f"Training diverged at step {k + 1}: the loss is no longer a finite number. "
        "Lower the learning rate (try 0.01) and start again."
    )


def headline_loss(losses, val_loss=None):
    """The one loss TinyGPT quotes for a run (the page's readout, saved models, cards,
    links, model files): the newest validation loss when names are held out, else the
    mean of the last HEADLINE_STEPS training losses; None before the first step."""
    if val_loss is not None:
        return val_loss
    recent = losses[-HEADLINE_STEPS:]
    return plain_sum(recent) / len(recent) if recent else None
