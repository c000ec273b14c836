"""Lesson 4, part 2 - a training run: data, model, optimizer and the step counter.

`Trainer` owns everything a run needs, so the CLI and the page drive the same code:
`step()` trains on the next batch of documents (one by default), `evaluate()` measures
the held-out loss, `sample()` generates, and `state()` / `from_state()` save and
continue a run exactly.
"""

import math

from . import fast, model
from .data import Tokenizer, shuffled_documents, split_documents
from .errors import TinyGPTError, is_finite_number
from .generate import Model
from .optim import Adam

# (params, config, [tokens, ...]) -> (mean loss of the documents, its gradients)
ENGINES = {"fast": fast.batch_loss_and_grads, "scalar": model.batch_loss_and_grads}
MAX_STEPS = 1_000_000
MAX_BATCH = 64
RUN_FORMAT, RUN_VERSION = "tinygpt-run", 1

DEFAULTS = {
    "n_embd": 16,
    "n_head": 4,
    "n_layer": 1,
    "block_size": 16,
    "lr": 0.01,
    "steps": 1000,
    "seed": 42,
    "engine": "fast",
    "val_fraction": 0.0,
    "beta1": 0.85,
    "beta2": 0.99,
    "eps": 1e-8,
    "batch": 1,  # documents per step
}


def _number(name, value, low, high, integer=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TinyGPTError(f"{name} must be a number, not {value!r}.")
    if not is_finite_number(value):  # inf, nan, or an int no float can hold
        raise TinyGPTError(f"{name} must be a finite number between {low:g} and {high:g}.")
    if integer and value != int(value):
        raise TinyGPTError(f"{name} must be a whole number, not {value}.")
    if not low <= value <= high:
        raise TinyGPTError(f"{name} must be between {low:g} and {high:g}; it is {value}.")
    return int(value) if integer else float(value)


def check_settings(settings):
    """All run settings, with defaults filled in, validated one by one."""
    unknown = set(settings) - set(DEFAULTS)
    if unknown:
        raise TinyGPTError(f"Unknown setting: {', '.join(sorted(unknown))}.")
    s = {**DEFAULTS, **settings}
    if not isinstance(s["engine"], str) or s["engine"] not in ENGINES:
        raise TinyGPTError("The engine must be 'fast' or 'scalar'.")
    s["steps"] = _number("steps", s["steps"], 1, MAX_STEPS, integer=True)
    s["seed"] = _number("seed", s["seed"], 0, 2**32 - 1, integer=True)
    if isinstance(s["lr"], (int, float)) and not isinstance(s["lr"], bool) and s["lr"] <= 0:
        raise TinyGPTError("The learning rate must be above 0; try 0.01.")
    s["lr"] = _number("The learning rate", s["lr"], 1e-9, 10)
    s["val_fraction"] = _number("The validation split", s["val_fraction"], 0, 0.5)
    s["beta1"] = _number("beta1", s["beta1"], 0, 0.9999)
    s["beta2"] = _number("beta2", s["beta2"], 0, 0.99999)
    s["eps"] = _number("eps", s["eps"], 1e-12, 1)
    s["batch"] = _number("batch (documents per step)", s["batch"], 1, MAX_BATCH, integer=True)
    for name in ("n_embd", "n_head", "n_layer", "block_size"):
        s[name] = _number(name, s[name], 1, model.LIMITS[name], integer=True)
    return s


class Trainer(Model):
    def __init__(self, text, **settings):
        s = check_settings(settings)
        config = model.Config(s["n_embd"], s["n_head"], s["n_layer"], s["block_size"])
        docs, rng = shuffled_documents(text, s["seed"])
        tokenizer = Tokenizer.from_docs(docs)
        super().__init__(config, tokenizer, model.init_params(config, tokenizer.vocab_size, rng))
        self.settings, self.text, self.rng = s, text, rng
        self.train_docs, self.val_docs = split_documents(docs, s["val_fraction"])
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
        if name not in ENGINES:
            raise TinyGPTError("The engine must be 'fast' or 'scalar'.")
        self.settings["engine"] = name

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
        }

    @classmethod
    def from_state(cls, state):
        from .checkpoint import check_params

        if not isinstance(state, dict) or state.get("format") != RUN_FORMAT:
            raise TinyGPTError("This is not a saved TinyGPT run.")
        if state.get("version") != RUN_VERSION:
            raise TinyGPTError("This saved run comes from another version of TinyGPT.")
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
        try:
            version, internal, gauss_next = state["rng"]
            trainer.rng.setstate((version, tuple(internal), gauss_next))
        except (KeyError, TypeError, ValueError):
            raise TinyGPTError("The saved run's random state is damaged.") from None
        return trainer
