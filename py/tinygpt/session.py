"""The playground's run, as the page sees it: plain data in, plain data out.

The page holds one `Session`: the run being trained (or the model opened from a file,
a link or the saved models) through its life, from new to discarded. JavaScript calls
the functions of `api(session)` through `web.py` with JSON-able arguments; each is a
thin layer over the module that does the work: scheduler.py cuts training and
generating into short pieces, checkpoint.py and compact.py read and write the formats,
insides.py computes the "Inside the model" panel. Nothing here touches the browser, so
the same code runs (and is tested) in CPython.
"""

import base64
import gc
import random
import time

from . import checkpoint, compact, export, insides, kernels, work
from . import settings as table
from .data import MAX_TEXT_CHARS, parse_documents
from .errors import TinyGPTError, is_finite_number
from .generate import Letters, Model
from .model import count_params
from .scheduler import VAL_EVERY, Panel, Scheduler, finish
from .trainer import ENGINES, PendingRun, Trainer

# A shared model's precision is measured on at most this many documents (compact.choose_bits).
SHARE_EVAL_DOCS = 100


def schema():
    """The settings table, the recipes and the page's limits, for the page's form."""
    return {**table.schema(), "limits": limits()}


def limits():
    """What the page may open and train: the sizes its messages quote."""
    return {
        "max_params": checkpoint.PAGE_MAX_PARAMS,
        "max_file_bytes": checkpoint.PAGE_MAX_FILE_BYTES,
        # A link's bytes: a model at the page's limit, 64 bits per weight, and its header.
        "max_link_bytes": checkpoint.PAGE_MAX_PARAMS * 8 + compact.MAX_HEADER_BYTES + 64,
        "max_meta_chars": checkpoint.MAX_META_CHARS,
        # A model file's matrices and rows, at most (the model-file worker's caps).
        "max_matrices": checkpoint.PAGE_MAX_MATRICES,
        "max_rows": checkpoint.PAGE_MAX_ROWS,
        "max_text_chars": MAX_TEXT_CHARS,  # training text
    }


class Session:
    def __init__(self):
        self.trainer = None  # the run being trained, if any
        self.model = None  # what generates: the trainer, or a model loaded from a file
        # The panel gathers through self.insides, looked up at each call.
        self.panel = Panel(lambda **options: self.insides(**options))
        self.work = Scheduler(None, None, self.panel)  # the model's work, in short pieces
        self._letters = None  # the "Next letter" stepper (generate.Letters)
        self._pending_run = None  # (PendingRun, dataset) between begin_run and finish_run
        self._insides_axes = None  # the panel's axes last drawn, to keep their signs
        self._insides_default = (None, "")  # (model, its default probe name)

    # --- starting, saving and restoring a run -------------------------------------------
    def new_run(self, text, settings, dataset=None):
        """A new run (the old one is kept if anything is wrong with the input): begin_run,
        build_run and finish_run at once, as Python callers want it."""
        self.begin_run(text, settings, dataset)
        return self.finish_run()

    def begin_run(self, text, settings, dataset=None):
        """new_run's first part, for the page: checks the settings and the data (a
        TinyGPTError leaves the old run as it was). Then build_run, called until it says
        done, shuffles and draws the weights in short pieces, and finish_run makes it the
        current run: each of the page's tasks stays short (see PendingRun)."""
        pending = PendingRun(text, settings)
        work.check_page_run(pending, "A model of these settings", "These settings")
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
        """Make `model` (and its run `trainer`, if it trains) the session's; what was
        under way for the old one (validation, names, the next letter) ends."""
        self.model, self.trainer = model, trainer
        self.work = Scheduler(model, trainer, self.panel)
        self._letters = None

    def discard(self):
        """Forget the run, the model and a run being built (the page's "New run"), and
        stop the panel's data. Job numbers and the panel's version go on counting, so an
        answer the page still waits for can never match what comes after."""
        self._replace(None, None)
        self._pending_run = None
        self.panel.set(None)
        self._insides_axes = None
        self._insides_default = (None, "")

    def info(self):
        t, m = self.trainer, self.model
        if m is None:
            return None
        info = {
            "config": m.config.as_dict(),
            "chars": list(m.tokenizer.chars),
            "params": count_params(m.params),
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
                val_points=[list(p) for p in self.work.val_points],
            )
        return info

    def headline_loss(self):
        """The one loss the page quotes for the model (cards, saved models, files): the
        run's (trainer.headline_loss), or the one a loaded model's meta quotes."""
        if self.trainer is not None:
            return self.work.headline_loss()
        return checkpoint.quoted_loss(self.model.meta) if self.model else None

    def _dataset_title(self):
        title = self.model.meta.get("dataset") if self.model else None
        return title[:80] if isinstance(title, str) else ""

    def run_state(self, packed=False):
        """The run, to continue it later: `Trainer.state()` plus the validation points;
        `packed` packs its numbers (what the page saves; docs/formats.md)."""
        if self.trainer is None:
            raise TinyGPTError("There is no run to save yet.")
        state = self.trainer.packed_state() if packed else self.trainer.state()
        return {**state, "val_points": [list(p) for p in self.work.val_points]}

    def restore_run(self, state):
        """A saved run (run_state) as the current run; refused, before anything is built,
        if the page could not train it (work.check_page_run)."""
        trainer = Trainer.from_state(state, check=lambda pending: work.check_page_run(
            pending, "The saved run's model", "The saved run's settings"))
        points = _check_val_points(state.get("val_points", []), trainer.step_count)
        self._replace(trainer, trainer)
        self.work.val_points = [tuple(p) for p in points]
        step = trainer.step_count
        if (  # saved while measuring: measure again, so the point is not lost
            trainer.val_docs
            and step
            and (step % VAL_EVERY == 0 or trainer.done)
            and all(p[0] != step for p in self.work.val_points)
        ):
            self.work.start_validation()
        return self.info()

    # --- opening a model: a file, a link, a saved model ----------------------------------
    def load_model(self, text):
        """Load a model file (its text) for generating; the current run is kept on failure.
        (The page parses files in a worker and calls open_model_file.)"""
        self._replace(checkpoint.loads(text, for_page=True), None)
        return self.info()

    def open_model_file(self, header, rows, weights):
        """A model file that the page parsed, in parts (checkpoint.load_page_parts)."""
        self._replace(checkpoint.load_page_parts(header, rows, weights), None)
        return self.info()

    def load_shared_model(self, data):
        """Load a model from a link's bytes (base64); the current run is kept on failure."""
        raw = checkpoint.decode_base64(data, "The shared model", compact.MAX_BYTES)
        model, bits = compact.unpack(raw, for_page=True)
        self._replace(model, None)
        return {**self.info(), "bits": bits}

    def model_file(self, meta=None):
        """The model as a model file, its meta saying what the page knows about it."""
        return checkpoint.model_file(self._need_model(), self._meta(meta))

    def _meta(self, extra=None):
        """What a model file or link says about the model: where it comes from, its data,
        steps and loss (the headline loss, as the page shows it), plus `extra`."""
        model = self._need_model()
        meta = dict(model.meta)
        if self.trainer is not None:
            t, points = self.trainer, self.work.val_points
            meta.update(steps=t.step_count, loss=self.headline_loss(),
                        batch=t.settings["batch"], seed=t.settings["seed"])
            if points:
                meta["val_loss"] = points[-1][1]
        if isinstance(extra, dict):
            meta.update(extra)
        return checkpoint.check_meta(meta, "The model's description")

    def export_project(self, meta=None):
        """The model as a standalone PyTorch project (export.py): {filename, data: base64
        zip, left_out}, in one go (start_export_project is the page's job).

        A training run exports its text as data.txt and its settings as train.py's defaults.
        """
        return finish(self._export_steps(meta))

    def start_export_project(self, meta=None):
        """export_project as a job of short pieces (job_for runs it): {job}."""
        return self.work.start_task(self._export_steps(meta))

    def _export_steps(self, meta):
        model_file = self.model_file(meta)  # the checks come now, not in the job
        return export.page_export_steps(model_file, self.trainer)

    def share_model(self, exact=False, meta=None):
        """The model as compact bytes (base64), with the fewest bits that keep its loss
        (compact.choose_bits) on up to SHARE_EVAL_DOCS of the run's documents, held-out
        ones when it has them; a model without a run has none to measure on. In one go:
        start_share_model is the page's job."""
        return finish(self._share_steps(exact, meta))

    def start_share_model(self, exact=False, meta=None):
        """share_model as a job of short pieces (job_for runs it): {job}. It shares the
        weights of now, even if training goes on meanwhile."""
        return self.work.start_task(self._share_steps(exact, meta))

    def _share_steps(self, exact, meta):
        model = self._need_model()
        info = self._meta(meta)  # the checks come now, not in the job
        model = Model(model.config, model.tokenizer, model.params, model.meta)  # this step's
        docs, measured_on = self._share_eval_docs()
        return _share_steps(model, info, docs, measured_on, bool(exact))

    def job_for(self, budget_ms):
        """Advance the sharing or exporting job for about `budget_ms` (Scheduler.task_for):
        {job, done, progress, result}."""
        if not is_finite_number(budget_ms) or not 0 <= budget_ms <= 1000:
            raise TinyGPTError("The time budget must be a number of milliseconds (0 to 1000).")
        return self.work.task_for(budget_ms)

    def cancel_job(self):
        """Stop the sharing or exporting job, if any."""
        self.work.cancel_task()

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

    # --- training (scheduler.py) -------------------------------------------------------
    def set_engine(self, engine):
        if self.trainer is None:
            raise TinyGPTError("Start a run first.")
        if engine not in ENGINES:
            raise TinyGPTError("The engine must be 'fast' or 'scalar'.")
        t = self.trainer
        work.check_step(t.config, t.tokenizer.vocab_size, t.train_docs + t.val_docs, engine,
                        f"This run on the {engine} engine would")
        t.engine = engine

    def train_for(self, budget_ms, max_steps=1_000_000, live=False):
        """Train for about `budget_ms` in short pieces: see Scheduler.train_for."""
        return self.work.train_for(budget_ms, max_steps, live)

    def prepare(self, budget_ms):
        """Do, in pieces of about `budget_ms`, the one-off work a first training step would
        otherwise do in one long task: compile the fast engine's kernels for every vector
        length up to kernels.MAX_UNROLL. Returns {"done"}; the page calls it while idle."""
        done = kernels.warm_up(time.perf_counter() + budget_ms / 1000)
        if done:
            gc.freeze()  # the kernels live as long as the page: see web.install
        return {"done": done}

    # --- generating ---------------------------------------------------------------------
    def _need_model(self):
        if self.model is None:
            raise TinyGPTError("There is no model yet: train one or load a model file.")
        return self.model

    def start_generate(self, n=10, temperature=0.5, prefix="", seed=None, run_rng=False):
        """Names as a job that train_for or work_for advance a letter at a time.

        `run_rng`: draw as microgpt.py does after its run, with the run's own random
        generator where training left it (no seed), copied so that every such job of the
        run draws the same names. Only a finished run trained here (or restored) has it."""
        self._need_model()
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
        return self.work.start_generate(n, temperature, prefix, seed, rng)

    def work_for(self, budget_ms):
        """Advance the generation job for about `budget_ms` (at least one letter)."""
        return self.work.work_for(budget_ms)

    def cancel_generate(self):
        """Stop the generation job, if any."""
        self.work.cancel_generate()

    def letters_start(self, temperature=0.5, seed=None):
        """"Next letter": start a name from BOS (generate.Letters); returns the
        probabilities of its first letter. `seed`: the sampling seed, or None."""
        model = self._need_model()
        table.check("temperature", temperature)
        self._letters = Letters(model, seed)
        return self._letters.view(temperature)

    def letters_next(self, temperature=0.5):
        """Draw the next letter of the name letters_start began."""
        self._need_model()
        table.check("temperature", temperature)
        if self._letters is None:
            raise TinyGPTError("Press Start over first.")
        return self._letters.next(temperature)

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
            self.panel.set(None)
            return None
        if not isinstance(options, dict):
            raise TinyGPTError("The panel's options must be an object.")
        known = ("probe_name", "probe_prefix", "temperature", "previous_axes", "letter",
                 "positions")
        options = {k: v for k, v in options.items() if k in known}
        answer = self.insides(**options) if self.model is not None else None
        options.pop("previous_axes", None)  # from now on, the session's own last axes
        version = self.panel.set(options)
        if answer is not None:
            answer["version"] = version
        return answer


def _share_steps(model, meta, docs, measured_on, exact):
    """Session.share_model's work in pieces (compact.choose_bits_steps, then packing)."""
    answer = yield from compact.choose_bits_steps(model, docs, exact)
    answer = {**answer, "docs": len(docs), "measured_on": measured_on}
    data = compact.pack(model, meta, answer["bits"])
    answer["data"] = base64.b64encode(data).decode("ascii")
    answer["bytes"] = len(data)
    return answer


def _check_val_points(points, step):
    """A saved run's validation points, [[step, loss]]: steps whole numbers from 1 to the
    run's step, in order, and losses finite and 0 or more, as a real run's are."""
    ok = isinstance(points, list) and all(
        isinstance(p, list) and len(p) == 2 and all(map(is_finite_number, p))
        and p[0] == int(p[0]) and 1 <= p[0] <= step and p[1] >= 0 for p in points
    )
    if not ok or any(a[0] > b[0] for a, b in zip(points, points[1:])):
        raise TinyGPTError("The saved run's validation history is damaged.")
    return [(int(s), float(loss)) for s, loss in points]


def _title(dataset):
    if not isinstance(dataset, str):
        raise TinyGPTError("The dataset's name must be text.")
    return dataset[:80]


def api(session):
    """The functions the pages call, by name: the playground's JavaScript (app/), and the
    browser tests reading what the page summarises (info, evaluate_text). Everything
    else is called in Python, by the tests and the CLI."""
    return {
        "validate": table.validate,  # the settings table answers these four itself
        "validate_generate": table.validate_generate,
        "query_settings": table.from_query,
        "settings_query": table.to_query,
        "begin_run": session.begin_run,
        "build_run": session.build_run,
        "finish_run": session.finish_run,
        "info": session.info,
        "discard": session.discard,
        "run_state": session.run_state,
        "restore_run": session.restore_run,
        "open_model_file": session.open_model_file,
        "model_file": session.model_file,
        "export_project": session.export_project,
        "share_model": session.share_model,
        "start_export_project": session.start_export_project,
        "start_share_model": session.start_share_model,
        "job_for": session.job_for,
        "cancel_job": session.cancel_job,
        "load_shared_model": session.load_shared_model,
        "evaluate_text": session.evaluate_text,
        "set_engine": session.set_engine,
        "prepare": session.prepare,
        "train_for": session.train_for,
        "start_generate": session.start_generate,
        "work_for": session.work_for,
        "cancel_generate": session.cancel_generate,
        "letters_start": session.letters_start,
        "letters_next": session.letters_next,
        "set_insides": session.set_insides,
    }
