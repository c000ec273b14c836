"""Lesson 4, part 2 - a training run: data, model, optimizer and the step counter.

`Trainer` owns everything a run needs, so the CLI and the page drive the same code:
`step()` trains on the next batch of documents (one by default), `evaluate()` measures
the held-out loss, `sample()` generates, and `state()` / `from_state()` save and
continue a run exactly.
"""

import base64
import math
import struct
import time

from . import fast, model
from .data import Tokenizer, parse_documents, shuffle_documents, split_documents
from .errors import TinyGPTError, is_finite_number
from .generate import Model
from .optim import Adam, flatten, unflatten
from .settings import RUN_DEFAULTS, check, check_run_settings, short

# (params, config, [tokens, ...]) -> (mean loss of the documents, its gradients)
ENGINES = {"fast": fast.batch_loss_and_grads, "scalar": model.batch_loss_and_grads}
RUN_FORMAT, RUN_VERSION = "tinygpt-run", 1
# Version 2 is version 1 with its numbers packed (see `packed_state`): what the page saves.
PACKED_VERSION = 2
# The run settings and their defaults live in settings.py, with every other setting.
DEFAULTS = RUN_DEFAULTS
check_settings = check_run_settings


class PendingRun:
    """A run being built: settings and documents checked and the vocabulary known at
    once; then `build` shuffles the documents and draws the weights, row by row, in as
    many pieces as its caller likes. The page builds a run in short tasks this way (see
    Session.begin_run): in one piece, a run of the default size took up to 50 ms in the
    page on a slow day, a long task. Trainer(text, **settings) does it all at once."""

    def __init__(self, text, settings):
        s = check_settings(settings)
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


class Trainer(Model):
    def __init__(self, text, **settings):
        self._build(PendingRun(text, settings))

    @classmethod
    def from_pending(cls, pending):
        """The run a PendingRun builds (what it has not built yet is built now), with its
        optimizer ready."""
        trainer = cls.__new__(cls)
        trainer._build(pending)
        return trainer

    def _build(self, pending):
        pending.build()  # whatever is left of it
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
        self.params = update(self.params, grads, self.step_count)
        self.step_count += 1
        self.losses.append(loss)

    def evaluate(self, max_docs=None):
        """Mean per-document loss on the validation documents, or None without a split."""
        if not self.val_docs:
            return None
        return self.evaluate_docs(self.val_docs[:max_docs] if max_docs else self.val_docs)

    def model_file(self, meta=None):
        from .checkpoint import model_file

        info = {
            "steps": self.step_count,
            "loss": self.losses[-1] if self.losses else None,
            "batch": self.batch,
        }
        info.update(meta or {})
        return model_file(self, info)

    # --- saving and continuing a run --------------------------------------------------
    def state(self):
        version, internal, gauss_next = self.rng.getstate()
        return {
            "format": RUN_FORMAT,
            "version": RUN_VERSION,
            "settings": dict(self.settings),
            "text": self.text,
            "step": self.step_count,
            "losses": list(self.losses),
            "params": self.params,
            "optimizer": self.optimizer.state(),
            "rng": [version, list(internal), gauss_next],
            "meta": dict(self.meta),
        }

    def packed_state(self):
        """`state()` with its many numbers (weights, Adam's moments, losses) packed as one
        base64 string of little-endian float64s, in that order: version 2 of the run
        format. The page saves a run every second or so; packing costs about a
        millisecond where JSON lists of floats cost tens (docs/formats.md)."""
        state = self.state()
        floats = flatten(state.pop("params"), self.params)
        optimizer = state.pop("optimizer")
        floats += optimizer["m"] + optimizer["v"] + state.pop("losses")
        data = base64.b64encode(struct.pack(f"<{len(floats)}d", *floats)).decode("ascii")
        return {**state, "version": PACKED_VERSION, "floats": data}

    @classmethod
    def unpack_state(cls, state):
        """A version 2 (packed) run state as version 1; version 1 comes back as it is."""
        if not isinstance(state, dict) or state.get("version") != PACKED_VERSION:
            return state
        data = state.get("floats")
        try:
            raw = base64.b64decode(data, validate=True) if isinstance(data, str) else b""
        except ValueError:
            raw = b""
        settings, step = state.get("settings"), state.get("step")
        try:
            settings = check_run_settings(settings)
            count = param_count(state.get("text"), settings)
        except TinyGPTError as e:
            raise TinyGPTError(f"The saved run cannot be read: {e}") from None
        if not isinstance(step, int) or isinstance(step, bool) or not 0 <= step:
            raise TinyGPTError("The saved run has an invalid step count.")
        if len(raw) != 8 * (3 * count + step):
            raise TinyGPTError("The saved run's numbers are damaged (the wrong amount of them).")
        floats = list(struct.unpack(f"<{len(raw) // 8}d", raw))
        like = {name: [[0.0] * cols] * rows for name, rows, cols in
                model.param_shapes(model.Config(*(settings[k] for k in _SHAPE)),
                                   _vocab_size(state.get("text")))}
        unpacked = {k: v for k, v in state.items() if k != "floats"}
        unpacked.update(
            version=RUN_VERSION,
            params=unflatten(floats[:count], like),
            optimizer={"m": floats[count : 2 * count], "v": floats[2 * count : 3 * count]},
            losses=floats[3 * count :],
        )
        return unpacked

    @classmethod
    def from_state(cls, state):
        """A run from `state()` or `packed_state()`, checked field by field: it continues
        with exactly the losses of the run it was saved from."""
        from .checkpoint import check_meta, check_params

        if not isinstance(state, dict) or state.get("format") != RUN_FORMAT:
            raise TinyGPTError("This is not a saved TinyGPT run.")
        if state.get("version") not in (RUN_VERSION, PACKED_VERSION):
            raise TinyGPTError(
                f"This saved run has version {short(state.get('version'))}; this TinyGPT "
                f"reads versions {RUN_VERSION} and {PACKED_VERSION}. It comes from another "
                "version of TinyGPT."
            )
        state = cls.unpack_state(state)
        settings = state.get("settings")
        if not isinstance(settings, dict):
            raise TinyGPTError("The saved run has no settings.")
        trainer = cls(state.get("text"), **settings)
        step, losses = state.get("step"), state.get("losses")
        if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= trainer.steps:
            raise TinyGPTError("The saved run has an invalid step count.")
        if not isinstance(losses, list) or len(losses) != step:
            raise TinyGPTError("The saved run's loss history does not match its step count.")
        trainer.params = check_params(
            state.get("params"), trainer.config, trainer.tokenizer.vocab_size
        )
        trainer.optimizer.load_state(state.get("optimizer"))
        trainer.step_count = step
        if not all(is_finite_number(x) for x in losses):
            raise TinyGPTError("The saved run's loss history holds something that is not a number.")
        trainer.losses = [float(x) for x in losses]
        trainer.rng.setstate(_check_rng(state.get("rng")))
        trainer.meta = dict(check_meta(state.get("meta", {}), "The saved run's description"))
        return trainer


_SHAPE = ("n_embd", "n_head", "n_layer", "block_size")


def _vocab_size(text):
    return Tokenizer.from_docs(parse_documents(text)).vocab_size


def param_count(text, settings):
    """How many parameters the run of these settings on this text has."""
    config = model.Config(*(settings[k] for k in _SHAPE))
    return sum(r * c for _, r, c in model.param_shapes(config, _vocab_size(text)))


def _check_rng(rng):
    """random.Random's state, as state() saves it, checked before setstate (which takes
    huge ints and raises OverflowError, or accepts a broken state silently)."""
    ok = (
        isinstance(rng, list)
        and len(rng) == 3
        and rng[0] == 3
        and isinstance(rng[1], list)
        and len(rng[1]) == 625
        and all(type(x) is int and 0 <= x < 2**32 for x in rng[1])
        and rng[1][-1] <= 624
        and (rng[2] is None or is_finite_number(rng[2]))
    )
    if not ok:
        raise TinyGPTError("The saved run's random state is damaged.")
    return (3, tuple(rng[1]), None if rng[2] is None else float(rng[2]))
