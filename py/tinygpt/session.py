"""The playground's run, as the page sees it: plain data in, plain data out.

The page holds one `Session`. JavaScript calls its methods through `web.py` with
JSON-able arguments. Work that takes time is cut into pieces so that no task of the
page runs long: training runs in `train_for` (about 20 ms at a time, see app/loop.js),
and so do the things measured while it trains (validation loss, live names); generating
names is a job that `work_for` advances in the same short pieces. Nothing here touches
the browser, so the same code runs (and is tested) in CPython.
"""

import base64
import binascii
import gc
import random
import struct
import time

from . import checkpoint, compact, export, insides, jsonio, kernels
from . import settings as table
from .data import MAX_TEXT_CHARS, parse_documents
from .errors import TinyGPTError, is_finite_number
from .generate import Model
from .trainer import ENGINES, PendingRun, Trainer

# The validation loss is measured on at most this many held-out documents, every
# VAL_EVERY steps; one document per loop iteration so a task never runs long.
VAL_DOCS = 100
VAL_EVERY = 100
# A shared model may carry fewer bits per weight if the loss on these documents moves
# by less than SHARE_MAX_LOSS_CHANGE.
SHARE_EVAL_DOCS = 100
SHARE_MAX_LOSS_CHANGE = 0.01
# The run settings of the page's form, in its order.
SETTINGS = tuple(s.name for s in table.RUN if s.form)
# Live names while training: how many, how often, how hot.
LIVE_NAMES, LIVE_EVERY_MS, LIVE_TEMPERATURE = 4, 1000, 0.5
# The loss the page shows for a run: the newest validation loss, or else the mean of
# the last HEADLINE_STEPS training losses (one name's loss jumps too much to quote).
HEADLINE_STEPS = 100
# With the "Inside the model" panel open, train_for also gathers the panel's data
# (insides.gather) at most every INSIDES_EVERY seconds, inside its time budget, and for a
# big model, whose data takes long to gather, less often: at most INSIDES_SHARE of the
# time goes to it.
INSIDES_EVERY = 0.4
INSIDES_SHARE = 0.05


def validate(settings):
    """{field: message} for every setting that is wrong on its own or with the others."""
    return table.validate(settings)


def schema():
    """The settings table, the recipes and the page's limits, for the page's form."""
    return {**table.schema(), "limits": limits()}


def query_settings(pairs):
    """Settings from a link's query ([[key, value]]): see settings.from_query."""
    return table.from_query(pairs)


def settings_query(settings, recipe=table.DEFAULT_RECIPE, dataset=None):
    """[[key, value]] for a link to a run with these settings: the recipe and what differs."""
    return [list(pair) for pair in table.to_query(settings, recipe, dataset)]


def limits():
    """What the page may open and train: the sizes its messages quote."""
    return {
        "max_params": checkpoint.PAGE_MAX_PARAMS,
        "max_file_bytes": checkpoint.PAGE_MAX_FILE_BYTES,
        # A link's bytes: a model at the page's limit, 64 bits per weight, and its header.
        "max_link_bytes": checkpoint.PAGE_MAX_PARAMS * 8 + compact.MAX_HEADER_BYTES + 64,
        "max_meta_chars": checkpoint.MAX_META_CHARS,
        "max_text_chars": MAX_TEXT_CHARS,  # training text
    }


class Session:
    def __init__(self):
        self.trainer = None  # the run being trained, if any
        self.model = None  # what generates: the trainer, or a model loaded from a file
        self.val_points = []  # [(step, loss)]
        self._val_queue = []
        self._val_sum = 0.0
        self._val_step = 0
        self._job = None  # names being generated: {"id", "steps" (a generator)}
        self._jobs = 0
        self._live = None  # live names being generated while training
        self._live_last = None  # when the last live names were finished (perf_counter)
        self._letters = None  # the "Next letter" stepper's state
        self._pending_run = None  # (PendingRun, dataset) between begin_run and finish_run
        self._insides = None  # the panel's probes while it is open (set_insides)
        self._insides_at = -INSIDES_EVERY  # perf_counter() of the last gather
        self._insides_cost = 0.0  # how long it took, in seconds
        # Counts set_insides calls: the page drops data gathered with earlier options,
        # which can reach it after the data of the new ones (a frame shows what the
        # training tasks before the change gathered).
        self._insides_version = 0
        self._step_s = 0.0  # how long the last training step took, in seconds
        self._insides_axes = None  # the axes last drawn, to keep their signs
        self._insides_default = (None, "")  # (model, its default probe name)

    # --- starting, saving and restoring a run -------------------------------------------
    def new_run(self, text, settings, dataset=None):
        """A new run (the old one is kept if anything is wrong with the input)."""
        self.begin_run(text, settings, dataset)
        return self.finish_run()

    def begin_run(self, text, settings, dataset=None):
        """new_run's first part, for the page: checks the settings and the data (a
        TinyGPTError leaves the old run as it was). Then build_run, called until it says
        done, shuffles and draws the weights in short pieces, and finish_run makes it the
        current run: each of the page's tasks stays short (see PendingRun)."""
        pending = PendingRun(text, settings)
        checkpoint.check_page_size(pending.config, pending.tokenizer.vocab_size,
                                   "A model of these settings")
        self._pending_run = (pending, dataset)

    def build_run(self, budget_ms):
        """Build the run begin_run checked for about `budget_ms`; returns {"done"}."""
        pending, _ = self._need_pending_run()
        return {"done": pending.build(time.perf_counter() + budget_ms / 1000)}

    def finish_run(self):
        """new_run's last part: builds what is left of the run begin_run checked, makes it
        the current run and returns info()."""
        (pending, dataset), self._pending_run = self._need_pending_run(), None
        trainer = Trainer.from_pending(pending)
        if dataset is not None:
            trainer.meta["dataset"] = _title(dataset)
        self._replace(trainer, trainer)
        return self.info()

    def _need_pending_run(self):
        if self._pending_run is None:
            raise TinyGPTError("Start a run first.")
        return self._pending_run

    def _replace(self, model, trainer):
        self.model, self.trainer = model, trainer
        self.val_points, self._val_queue = [], []
        self._job = self._live = self._letters = None
        self._live_last = None

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
            "dataset": self._dataset_title(),
            "loss": self.headline_loss(),
            "max_name_length": m.max_name_length,
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

    def headline_loss(self):
        """The one loss the page quotes for the model (cards, saved models, files)."""
        if self.trainer is not None:
            if self.val_points:
                return self.val_points[-1][1]
            recent = self.trainer.losses[-HEADLINE_STEPS:]
            return sum(recent) / len(recent) if recent else None
        meta = self.model.meta if self.model else {}
        for key in ("val_loss", "loss"):
            if is_finite_number(meta.get(key)) and meta[key] >= 0:
                return float(meta[key])
        return None

    def _dataset_title(self):
        title = self.model.meta.get("dataset") if self.model else None
        return title[:80] if isinstance(title, str) else ""

    def discard(self):
        """Forget the run and the model (the page's "New run")."""
        self.__init__()

    def run_state(self, packed=False):
        """The run, to continue it later: `Trainer.state()` plus the validation points;
        `packed` packs its numbers (what the page saves; docs/formats.md)."""
        if self.trainer is None:
            raise TinyGPTError("There is no run to save yet.")
        state = self.trainer.packed_state() if packed else self.trainer.state()
        return {**state, "val_points": [list(p) for p in self.val_points]}

    def restore_run(self, state):
        trainer = Trainer.from_state(state)
        points = state.get("val_points", [])
        if not isinstance(points, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(map(is_finite_number, p)) for p in points
        ):
            raise TinyGPTError("The saved run's validation history is damaged.")
        checkpoint.check_page_size(trainer.config, trainer.tokenizer.vocab_size,
                                   "The saved run's model")
        self._replace(trainer, trainer)
        self.val_points = [tuple(p) for p in points]
        step = trainer.step_count
        if (  # saved while measuring: measure again, so the point is not lost
            trainer.val_docs
            and step
            and (step % VAL_EVERY == 0 or trainer.done)
            and all(p[0] != step for p in self.val_points)
        ):
            self._val_start()
        return self.info()

    # --- opening a model: a file, a link, a saved model ----------------------------------
    def load_model(self, text):
        """Load a model file (its text) for generating; the current run is kept on failure."""
        self._open(checkpoint.loads(text, for_page=True))
        return self.info()

    def open_model_file(self, header, rows, weights):
        """A model file that the page parsed (JSON.parse in a worker is far faster than
        Python's json in Pyodide, and keeps the page free), sent as: its fields without the
        weights (`header`, JSON text), the length of every row of every matrix of its
        state_dict (`rows`: {name: [length, or -1 for a row that is not a list], or -1 for
        a matrix that is not a list}, or None when there is no state_dict object), and all
        its numbers in that order (`weights`: base64 float64; anything not a number is
        NaN). The file is rebuilt exactly as it was, and checked by the same code as any
        model file (checkpoint.load_model_file)."""
        data = jsonio.loads(header, "The model file", checkpoint.MAX_META_CHARS * 10)
        if not isinstance(data, dict):
            raise TinyGPTError("This is not a TinyGPT model file.")
        raw = _b64(weights, "The model file's weights", checkpoint.PAGE_MAX_FILE_BYTES)
        floats = struct.unpack(f"<{len(raw) // 8}d", raw[: len(raw) // 8 * 8])
        state_dict, at = None, 0
        if isinstance(rows, dict):
            state_dict = {}
            for name, lengths in rows.items():
                if not isinstance(lengths, list):
                    state_dict[name] = None
                    continue
                matrix = []
                for n in lengths:
                    if type(n) is not int or n < 0 or at + n > len(floats):
                        matrix.append(None)
                        continue
                    matrix.append(list(floats[at : at + n]))
                    at += n
                state_dict[name] = matrix
        if at != len(floats) or len(raw) % 8:
            raise TinyGPTError("The model file's weights do not match its shapes.")
        self._open(checkpoint.load_model_file({**data, "state_dict": state_dict}, True))
        return self.info()

    def load_shared_model(self, data):
        """Load a model from a link's bytes (base64); the current run is kept on failure."""
        raw = _b64(data, "The shared model", compact.MAX_BYTES)
        model, bits = compact.unpack(raw, for_page=True)
        self._open(model)
        return {**self.info(), "bits": bits}

    def _open(self, model):
        self._replace(model, None)

    def model_file(self, meta=None):
        """The model as a model file, its meta saying what the page knows about it."""
        return checkpoint.model_file(self._need_model(), self._meta(meta))

    def _meta(self, extra=None):
        """What a model file or link says about the model: where it comes from, its data,
        steps and loss (the headline loss, as the page shows it), plus `extra`."""
        model = self._need_model()
        meta = dict(model.meta)
        if self.trainer is not None:
            t = self.trainer
            meta.update(steps=t.step_count, loss=self.headline_loss(),
                        batch=t.settings["batch"], seed=t.settings["seed"])
            if self.val_points:
                meta["val_loss"] = self.val_points[-1][1]
        if isinstance(extra, dict):
            meta.update(extra)
        return checkpoint.check_meta(meta, "The model's description")

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
        info = self._meta(meta)
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

    def train_for(self, budget_ms, max_steps=1_000_000, live=False):
        """Train for about `budget_ms` (at least one piece of work); returns what changed.

        Pieces of work: the panel's data when it is due (see set_insides), a training
        step, one validation document (every VAL_EVERY steps
        the loss on up to VAL_DOCS held-out names is measured, a name at a time), one
        letter of the names being generated (`start_generate`), and with `live`, one
        letter of a few names at temperature 0.5 every LIVE_EVERY_MS, made by the weights
        of the step they start at. At least one piece always runs, so the scalar engine,
        whose step can exceed the budget, still moves. After that, a piece starts only if
        one as long as the last still fits the budget: the page's tasks then stay near the
        budget instead of overshooting it.
        """
        t = self.trainer
        if t is None:
            raise TinyGPTError("Start a run first.")
        start = time.perf_counter()
        deadline = start + budget_ms / 1000
        panel = self._insides_due(start)  # first, so its time counts against the budget
        first = t.step_count
        answer = {"val_points": []}
        # After the panel's data, a step runs only if one as long as the last one fits.
        fits = panel is None or time.perf_counter() + self._step_s < deadline
        while fits:
            began = time.perf_counter()
            stepped = not self._side_piece(answer, live, began)
            if stepped:
                if t.done or t.step_count - first >= max_steps:
                    break
                t.step()
                if t.val_docs and (t.step_count % VAL_EVERY == 0 or t.done):
                    self._val_start()
            now = time.perf_counter()
            if stepped:
                self._step_s = now - began
            # Would one more like it overrun? (A step after a shorter piece would.)
            fits = now + max(now - began, self._step_s) < deadline
        # done: the run has finished and its last validation loss is measured
        answer.update(step=t.step_count, done=t.done and not self._val_queue,
                      losses=t.losses[first:], loss=self.headline_loss(),
                      ms=(time.perf_counter() - start) * 1000)
        answer["val_points"] = [list(p) for p in answer["val_points"]]
        if panel is not None:
            answer["insides"] = panel
        return answer

    def _side_piece(self, answer, live, now):
        """One piece of the work that goes along with training; False if there is none."""
        if self._val_queue:
            point = self._val_next()
            if point:
                answer["val_points"].append(point)
            return True
        if self._job is not None:
            self._job_piece(answer)
            return True
        t = self.trainer
        if live and not t.done and self._live is None and t.step_count and (
            self._live_last is None or (now - self._live_last) * 1000 >= LIVE_EVERY_MS
        ):
            snapshot = Model(t.config, t.tokenizer, t.params)  # the weights of this step
            steps = snapshot.sample_steps(LIVE_NAMES, LIVE_TEMPERATURE, "", t.step_count)
            self._live = {"step": t.step_count, "steps": steps}
        if live and self._live is not None:
            names = next(self._live["steps"])
            if names is not None:
                answer["live"] = {"step": self._live["step"], "names": names}
                self._live, self._live_last = None, now
            return True
        return False

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

    # --- warming up ---------------------------------------------------------------------
    def prepare(self, budget_ms):
        """Do, in pieces of about `budget_ms`, the one-off work a first training step would
        otherwise do in one long task: compile the fast engine's kernels for every vector
        length up to kernels.MAX_UNROLL. Returns {"done"}; the page calls it while idle."""
        deadline = time.perf_counter() + budget_ms / 1000
        done = kernels.prepare(range(1, kernels.MAX_UNROLL + 1), deadline)
        if done:
            gc.freeze()  # the kernels live as long as the page: see web.install
        return {"done": done}

    # --- generating ---------------------------------------------------------------------
    def _need_model(self):
        if self.model is None:
            raise TinyGPTError("There is no model yet: train one or load a model file.")
        return self.model

    def generate(self, n=10, temperature=0.5, prefix="", seed=None):
        """Names, all at once (the CLI's way; the page uses start_generate / work_for)."""
        return self._need_model().sample(n, temperature, prefix, seed)

    def start_generate(self, n=10, temperature=0.5, prefix="", seed=None, run_rng=False):
        """Start generating names as a job that train_for or work_for advance a letter at
        a time; a job already running is replaced. Bad settings are refused here.

        `run_rng`: draw as microgpt.py does after its run, with the run's own random
        generator where training left it (no seed), copied so that every such job of the
        run draws the same names. Only a finished run trained here (or restored) has it."""
        model = self._need_model()
        rng = None
        if run_rng:
            t = self.trainer
            if t is None:
                raise TinyGPTError("This model was opened, not trained here: it has no run's "
                                   "random generator to draw with. Train a run first.")
            if not t.done:
                raise TinyGPTError(f"microgpt.py draws its names after its last step: finish "
                                   f"the run first (step {t.step_count} of {t.steps}).")
            if seed is not None:
                raise TinyGPTError("Drawing with the run's own generator takes no seed.")
            rng = random.Random()
            rng.setstate(t.rng.getstate())
        steps = model.sample_steps(n, temperature, prefix, seed, rng)
        first = next(steps)  # checks the settings and the prefix now, not later
        self._jobs += 1
        self._job = {"id": self._jobs, "steps": steps, "names": first, "letters": 0}
        return {"job": self._jobs}

    def work_for(self, budget_ms):
        """Advance the generation job for about `budget_ms` (at least one letter)."""
        answer = {}
        deadline = time.perf_counter() + budget_ms / 1000
        while self._job is not None:
            began = time.perf_counter()
            self._job_piece(answer)
            now = time.perf_counter()
            if now + (now - began) >= deadline:
                break
        return answer.get("job") or {"job": None, "done": True, "names": None}

    def _job_piece(self, answer):
        job = self._job
        names = job["names"] if job["names"] is not None else next(job["steps"])
        job["names"] = None
        job["letters"] += 1
        if names is not None:
            self._job = None
        answer["job"] = {"job": job["id"], "done": names is not None, "names": names,
                         "letters": job["letters"]}

    def cancel_generate(self):
        """Stop the generation job, if any."""
        self._job = None

    # --- one name, letter by letter ("Next letter") ---------------------------------------
    def letters_start(self, temperature=0.5, seed=None):
        """Start a name from BOS; returns the probabilities of its first letter. Drawing
        uses Python's random, seeded (the sampling seed) when `seed` is given."""
        model = self._need_model()
        temperature = table.check("temperature", temperature)
        seed = table.check("sample_seed", seed)
        cache, ids, logits = model._start("")
        self._letters = {"cache": cache, "ids": list(ids), "logits": logits,
                         "rng": random.Random(seed), "done": False}
        return self._letters_answer(temperature, None)

    def letters_next(self, temperature=0.5):
        """Draw the next letter, feed it to the model with the keys and values of the
        letters before it kept (one position of work, not the whole name again)."""
        model = self._need_model()
        temperature = table.check("temperature", temperature)
        state = self._letters
        if state is None:
            raise TinyGPTError("Press Start over first.")
        if state["done"]:
            return self._letters_answer(temperature, None)
        probs = model.probabilities(state["logits"], temperature)
        token = state["rng"].choices(range(model.tokenizer.vocab_size), weights=probs)[0]
        if token != model.tokenizer.bos:
            state["ids"].append(token)
        chosen = {"ch": "" if token == model.tokenizer.bos else model.tokenizer.chars[token],
                  "p": probs[token]}
        if model.ends_name(token, len(state["ids"])):
            state["done"] = True
        else:
            state["logits"] = model.forward_one(token, state["cache"])
        return self._letters_answer(temperature, chosen)

    def _letters_answer(self, temperature, chosen):
        model, state = self.model, self._letters
        names = model.tokenizer.chars + [""]
        probs = [] if state["done"] else model.probabilities(state["logits"], temperature)
        return {
            "text": model.tokenizer.decode(state["ids"]),
            "done": state["done"],
            "chosen": chosen,
            "probs": sorted(([names[i], p] for i, p in enumerate(probs)), key=lambda x: -x[1]),
        }

    def next_probs(self, context="", temperature=0.5):
        table.check("temperature", temperature)
        return [list(p) for p in self._need_model().next_token_probs(context, temperature)]

    def attention(self, text):
        return self._need_model().attention(text)

    # --- the "Inside the model" panel (insides.py) --------------------------------------
    def insides(self, probe_name=None, probe_prefix="", temperature=0.5, previous_axes=None,
                letter=None, positions=True):
        """The panel's data for the model now (see insides.gather), plus `step` (None for
        a loaded model) and `ms` (the time it took). probe_name None is the default, see
        insides.default_probe_name. Bad probes raise TinyGPTError."""
        model = self._need_model()
        if probe_name is None:
            if self._insides_default[0] is not model:  # generating one costs a little
                docs = self.trainer.train_docs if self.trainer is not None else None
                self._insides_default = (model, insides.default_probe_name(model, docs))
            probe_name = self._insides_default[1]
        if previous_axes is None:
            previous_axes = self._insides_axes
        start = time.perf_counter()
        answer = insides.gather(model, probe_name, probe_prefix, temperature, letter,
                                previous_axes, positions)
        answer["ms"] = (time.perf_counter() - start) * 1000
        self._insides_axes = {
            "embeddings": answer["embeddings"]["axes"],
            "positions": answer["positions"]["axes"] if answer["positions"] else None,
        }
        answer["step"] = self.trainer.step_count if self.trainer is not None else None
        return answer

    def set_insides(self, options=None):
        """Turn the panel's data in train_for's answers on (`options`: insides()'s
        arguments, as a dict) or off (None). Returns the data for the model now, or None
        without a model; bad options raise TinyGPTError and leave the last good ones."""
        if options is None:
            self._insides = None
            return None
        if not isinstance(options, dict):
            raise TinyGPTError("The panel's options must be an object.")
        known = ("probe_name", "probe_prefix", "temperature", "previous_axes", "letter",
                 "positions")
        options = {k: v for k, v in options.items() if k in known}
        answer = self.insides(**options) if self.model is not None else None
        options.pop("previous_axes", None)  # from now on, the session's own last axes
        self._insides = options
        self._insides_at = time.perf_counter()
        self._insides_version += 1
        if answer is not None:
            answer["version"] = self._insides_version
        return answer

    def _insides_due(self, now):
        """The panel's data if it is open and due (see INSIDES_EVERY), else None; a probe
        the model cannot read (it changed since the probe was set) gives {"error"}."""
        wait = max(INSIDES_EVERY, self._insides_cost / INSIDES_SHARE)
        if self._insides is None or now - self._insides_at < wait:
            return None
        self._insides_at = now
        try:
            data = self.insides(**self._insides)
        except TinyGPTError as e:
            data = {"error": str(e)}
        finally:
            self._insides_cost = time.perf_counter() - now
        data["version"] = self._insides_version
        return data


def _title(dataset):
    if not isinstance(dataset, str):
        raise TinyGPTError("The dataset's name must be text.")
    return dataset[:80]


def _b64(data, what, max_bytes):
    if not isinstance(data, str) or len(data) > max_bytes * 4 // 3 + 4:
        raise TinyGPTError(f"{what} is too large: the limit is {max_bytes:,} bytes.")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise TinyGPTError(f"{what} is damaged (its encoding is broken).") from None


def _with_params(model, params):
    """A copy of `model` that computes with other weights (for measuring rounding)."""
    return Model(model.config, model.tokenizer, params, model.meta)


def api(session):
    """The functions the page may call, by name."""
    return {
        "schema": schema,
        "validate": validate,
        "validate_generate": table.validate_generate,
        "defaults": lambda: {k: table.RUN_DEFAULTS[k] for k in SETTINGS},
        "query_settings": query_settings,
        "settings_query": settings_query,
        "new_run": session.new_run,
        "begin_run": session.begin_run,
        "build_run": session.build_run,
        "finish_run": session.finish_run,
        "info": session.info,
        "discard": session.discard,
        "run_state": session.run_state,
        "restore_run": session.restore_run,
        "load_model": session.load_model,
        "open_model_file": session.open_model_file,
        "model_file": session.model_file,
        "export_project": session.export_project,
        "share_model": session.share_model,
        "load_shared_model": session.load_shared_model,
        "evaluate_text": session.evaluate_text,
        "set_engine": session.set_engine,
        "prepare": session.prepare,
        "train_for": session.train_for,
        "generate": session.generate,
        "start_generate": session.start_generate,
        "work_for": session.work_for,
        "cancel_generate": session.cancel_generate,
        "letters_start": session.letters_start,
        "letters_next": session.letters_next,
        "next_probs": session.next_probs,
        "attention": session.attention,
        "insides": session.insides,
        "set_insides": session.set_insides,
    }
