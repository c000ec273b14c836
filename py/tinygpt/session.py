"""The playground's run, as the page sees it: plain data in, plain data out.

The page holds one `Session`. JavaScript calls its methods through `web.py` with
JSON-able arguments (while training, `train_for` in tasks of about 20 ms, see
app/loop.js). Nothing here touches the browser, so the same code runs (and is tested)
in CPython.
"""

import base64
import binascii
import time

from . import checkpoint, compact, export
from .data import parse_documents
from .errors import TinyGPTError, is_finite_number
from .generate import check_temperature
from .model import Config
from .trainer import DEFAULTS, ENGINES, Trainer, check_settings

# The validation loss is measured on at most this many held-out documents, every
# VAL_EVERY steps; one document per loop iteration so a task never runs long.
VAL_DOCS = 100
VAL_EVERY = 100
# A shared model may carry fewer bits per weight if the loss on these documents moves
# by less than SHARE_MAX_LOSS_CHANGE.
SHARE_EVAL_DOCS = 100
SHARE_MAX_LOSS_CHANGE = 0.01
SETTINGS = ("steps", "lr", "seed", "engine", "n_embd", "n_head", "n_layer", "block_size",
            "val_fraction")


def validate(settings):
    """{field: message} for every setting that is wrong on its own or with the others."""
    problems = {}
    for name, value in settings.items():
        if name not in DEFAULTS:
            problems[name] = f"Unknown setting {name!r}."
            continue
        try:
            check_settings({name: value})
        except TinyGPTError as e:
            problems[name] = str(e)
    if not problems:
        s = check_settings(settings)
        try:  # n_embd and n_head can be fine alone but not together
            Config(s["n_embd"], s["n_head"], s["n_layer"], s["block_size"])
        except TinyGPTError as e:
            problems["n_head"] = str(e)
    return problems


class Session:
    def __init__(self):
        self.trainer = None  # the run being trained, if any
        self.model = None  # what generates: the trainer, or a model loaded from a file
        self.val_points = []  # [(step, loss)]
        self._val_queue = []
        self._val_sum = 0.0
        self._val_step = 0

    # --- starting, saving and restoring a run -------------------------------------------
    def new_run(self, text, settings):
        trainer = Trainer(text, **settings)  # raises before anything is replaced
        self.trainer = self.model = trainer
        self.val_points, self._val_queue = [], []
        return self.info()

    def info(self):
        t, m = self.trainer, self.model
        if m is None:
            return None
        info = {
            "config": m.config.as_dict(),
            "chars": list(m.tokenizer.chars),
            "params": sum(len(r) * len(r[0]) for r in m.params.values()),
            "meta": dict(m.meta),
            "trainable": t is not None,
        }
        if t is not None:
            info.update(
                settings=dict(t.settings),
                step=t.step_count,
                steps=t.steps,
                done=t.done,
                train_docs=len(t.train_docs),
                val_docs=len(t.val_docs),
                losses=list(t.losses),
                val_points=[list(p) for p in self.val_points],
            )
        return info

    def discard(self):
        """Forget the run and the model (the page's "New run")."""
        self.__init__()

    def run_state(self):
        if self.trainer is None:
            raise TinyGPTError("There is no run to save yet.")
        return {**self.trainer.state(), "val_points": [list(p) for p in self.val_points]}

    def restore_run(self, state):
        trainer = Trainer.from_state(state)
        points = state.get("val_points", [])
        if not isinstance(points, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(map(is_finite_number, p)) for p in points
        ):
            raise TinyGPTError("The saved run's validation history is damaged.")
        self.trainer = self.model = trainer
        self.val_points, self._val_queue = [tuple(p) for p in points], []
        step = trainer.step_count
        if (  # saved while measuring: measure again, so the point is not lost
            trainer.val_docs
            and step
            and (step % VAL_EVERY == 0 or trainer.done)
            and all(p[0] != step for p in self.val_points)
        ):
            self._val_start()
        return self.info()

    def load_model(self, text):
        """Load a model file (its text) for generating; the current run is kept on failure."""
        self.model = checkpoint.loads(text)
        self.trainer = None
        self.val_points, self._val_queue = [], []
        return self.info()

    def model_file(self, meta=None):
        model = self._need_model()
        if self.trainer is not None:
            return self.trainer.model_file(meta)
        return checkpoint.model_file(model, {**model.meta, **(meta or {})})

    def export_project(self, meta=None):
        """The model as a standalone PyTorch project (export.py): {filename, data: base64 zip}.

        A training run exports its text as data.txt and its settings as train.py's defaults.
        """
        return export.page_export(self.model_file(meta), self.trainer)

    # --- sharing a model in a link (compact.py) ------------------------------------------
    def share_model(self, exact=False, meta=None):
        """The model as compact bytes (base64), with the fewest bits that keep its loss.

        16 and then 32 bits per weight are tried unless `exact`; one is used when it
        leaves every weight unchanged, or moves the loss on up to SHARE_EVAL_DOCS
        documents (validation ones when the run holds some out) by less than
        SHARE_MAX_LOSS_CHANGE. Otherwise, or without documents to measure on, 64 bits.
        """
        model = self._need_model()
        info = {**model.meta, **(meta or {})}
        if self.trainer is not None:
            info.update(steps=self.trainer.step_count)
        docs, measured_on = self._share_eval_docs()
        answer = {"bits": 64, "loss": None, "loss_shared": None, "docs": len(docs),
                  "measured_on": measured_on}
        if not exact:
            base = None
            for bits in (16, 32):
                try:
                    rounded = compact.quantize(model.params, bits)
                except TinyGPTError:
                    continue  # a weight beyond float16's range
                if rounded == model.params:
                    answer["bits"] = bits
                    break
                if not docs:
                    continue
                if base is None:
                    base = model.evaluate_docs(docs)
                loss = _with_params(model, rounded).evaluate_docs(docs)
                if abs(loss - base) < SHARE_MAX_LOSS_CHANGE:
                    answer.update(bits=bits, loss=base, loss_shared=loss)
                    break
        data = compact.pack(model, info, answer["bits"])
        answer["data"] = base64.b64encode(data).decode("ascii")
        answer["bytes"] = len(data)
        return answer

    def _share_eval_docs(self):
        t = self.trainer
        if t is None:
            return [], None
        if t.val_docs:
            return t.val_docs[:SHARE_EVAL_DOCS], "validation"
        return t.train_docs[:SHARE_EVAL_DOCS], "training"

    def load_shared_model(self, data):
        """Load a model from a link's bytes (base64); the current run is kept on failure."""
        if not isinstance(data, str) or len(data) > compact.MAX_BYTES * 4 // 3 + 4:
            raise TinyGPTError(
                f"The shared model is too large: the limit is {compact.MAX_BYTES:,} bytes."
            )
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise TinyGPTError("The shared model is damaged (its encoding is broken).") from None
        model, bits = compact.unpack(raw)
        self.model = model
        self.trainer = None
        self.val_points, self._val_queue = [], []
        return {**self.info(), "bits": bits}

    def evaluate_text(self, text):
        """Mean loss over the lines of `text`, as `python -m tinygpt eval` computes it."""
        docs = parse_documents(text)
        return {"loss": self._need_model().evaluate_docs(docs), "docs": len(docs)}

    # --- training ---------------------------------------------------------------------
    def set_engine(self, engine):
        if self.trainer is None:
            raise TinyGPTError("Start a run first.")
        if engine not in ENGINES:
            raise TinyGPTError("The engine must be 'fast' or 'scalar'.")
        self.trainer.engine = engine

    def train_for(self, budget_ms, max_steps=1_000_000):
        """Train for about `budget_ms` (at least one step); returns what changed.

        At least one step always runs, so the scalar engine, whose step can exceed the
        budget, still moves, and the page redraws between its steps. After that, a step
        starts only if a step as long as the last one still fits the budget: the page's
        tasks then stay near the budget instead of overshooting it by a step.
        """
        t = self.trainer
        if t is None:
            raise TinyGPTError("Start a run first.")
        start = time.perf_counter()
        deadline = start + budget_ms / 1000
        first = t.step_count
        new_val = []
        while not t.done and t.step_count - first < max_steps:
            began = time.perf_counter()
            if self._val_queue:
                point = self._val_next()
                if point:
                    new_val.append(point)
            else:
                t.step()
                if t.val_docs and (t.step_count % VAL_EVERY == 0 or t.done):
                    self._val_start()
            now = time.perf_counter()
            if now + (now - began) >= deadline:  # would one more like it overrun?
                break
        while t.done and self._val_queue and time.perf_counter() < deadline:
            point = self._val_next()
            if point:
                new_val.append(point)
        return {
            "step": t.step_count,
            "done": t.done,
            "losses": t.losses[first:],
            "val_points": [list(p) for p in new_val],
            "ms": (time.perf_counter() - start) * 1000,
        }

    def _val_start(self):
        self._val_queue = list(self.trainer.val_docs[:VAL_DOCS])
        self._val_sum, self._val_count = 0.0, len(self._val_queue)
        self._val_step = self.trainer.step_count

    def _val_next(self):
        self._val_sum += self.trainer.document_loss(self._val_queue.pop())
        if self._val_queue:
            return None
        point = (self._val_step, self._val_sum / self._val_count)
        self.val_points.append(point)
        return point

    # --- generating ---------------------------------------------------------------------
    def _need_model(self):
        if self.model is None:
            raise TinyGPTError("There is no model yet: train one or load a model file.")
        return self.model

    def generate(self, n=10, temperature=0.5, prefix="", seed=None):
        return self._need_model().sample(n, temperature, prefix, seed)

    def next_probs(self, context="", temperature=0.5):
        check_temperature(temperature)
        return [list(p) for p in self._need_model().next_token_probs(context, temperature)]

    def attention(self, text):
        return self._need_model().attention(text)


def _with_params(model, params):
    """A copy of `model` that computes with other weights (for measuring rounding)."""
    from .generate import Model

    return Model(model.config, model.tokenizer, params, model.meta)


def api(session):
    """The functions the page may call, by name."""
    return {
        "validate": validate,
        "defaults": lambda: {k: DEFAULTS[k] for k in SETTINGS},
        "new_run": session.new_run,
        "info": session.info,
        "discard": session.discard,
        "run_state": session.run_state,
        "restore_run": session.restore_run,
        "load_model": session.load_model,
        "model_file": session.model_file,
        "export_project": session.export_project,
        "share_model": session.share_model,
        "load_shared_model": session.load_shared_model,
        "evaluate_text": session.evaluate_text,
        "set_engine": session.set_engine,
        "train_for": session.train_for,
        "generate": session.generate,
        "next_probs": session.next_probs,
        "attention": session.attention,
    }
