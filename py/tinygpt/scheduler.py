"""Work in short pieces: what the page's training and generating tasks run.

The page keeps its main thread free by calling Python in tasks of about 20 ms, back to
back (app/loop.js). A `Scheduler` is the work of one model cut into pieces that fit such
a task: training steps (a step on a batch too big for one piece, a chunk of its names at
a time: Trainer.train_piece), the validation loss measured a held-out name at a time, live
names and the generation job written a letter at a time, and the "Inside the model"
panel's data when it is due (`Panel`). `train_for` and `work_for` run as many pieces as
fit the budget. Nothing here touches the browser, so the same code runs (and is tested)
in CPython.
"""

import itertools
import time

from . import kernels
from .errors import TinyGPTError
from .generate import Model
from .trainer import headline_loss

# The validation loss is measured on at most this many held-out documents, every
# VAL_EVERY steps; one document per piece so a task never runs long.
VAL_DOCS = 100
VAL_EVERY = 100
# Live names while training: how many, how often, how hot.
LIVE_NAMES, LIVE_EVERY_MS, LIVE_TEMPERATURE = 4, 1000, 0.5
# With the "Inside the model" panel open, train_for also gathers the panel's data at most
# every INSIDES_EVERY seconds, inside its time budget, and for a big model, whose data
# takes long to gather, less often: at most INSIDES_SHARE of the time goes to it.
INSIDES_EVERY = 0.4
INSIDES_SHARE = 0.05

# Jobs (names being generated, a model being shared or exported) are numbered across
# models and sessions: an answer about a job of an earlier model can never match the job
# the page waits for now.
_job_ids = itertools.count(1)


def finish(steps):
    """What a job's generator of pieces returns (see Scheduler.start_task), run to the
    end in one go: the CLI's and Python callers' way."""
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value


class Panel:
    """When the "Inside the model" panel's data is gathered while training.

    `gather(**options)` computes the data (Session.insides). While options are set
    (`set`), `due` gathers it at most every INSIDES_EVERY seconds and at most
    INSIDES_SHARE of the time. `version` counts the `set` calls with options: the page
    drops data gathered with earlier options, which can reach it after the new ones'.
    """

    def __init__(self, gather):
        self.gather = gather
        self.options = None
        self.version = 0
        self.at = -INSIDES_EVERY  # perf_counter() of the last gathering
        self.cost = 0.0  # how long it took, in seconds

    def set(self, options):
        """New options (a dict of gather's arguments) or None to stop; returns the version."""
        self.options = options
        if options is not None:
            self.at = time.perf_counter()
            self.version += 1
        return self.version

    def due(self, now):
        """The panel's data if options are set and it is due, else None; a probe the model
        cannot read (it changed since the probe was set) gives {"error"}."""
        wait = max(INSIDES_EVERY, self.cost / INSIDES_SHARE)
        if self.options is None or now - self.at < wait:
            return None
        self.at = now
        try:
            data = self.gather(**self.options)
        except TinyGPTError as e:
            data = {"error": str(e)}
        finally:
            self.cost = time.perf_counter() - now
        data["version"] = self.version
        return data


class Scheduler:
    """The pieces of work of one model (a run's Trainer, or a model opened from a file,
    which only generates), and the validation points measured so far."""

    def __init__(self, model, trainer=None, panel=None):
        self.model, self.trainer, self.panel = model, trainer, panel
        self.val_points = []  # [(step, loss)]
        self._val_queue = []  # the held-out documents still to measure
        self._val_sum, self._val_count, self._val_step = 0.0, 0, 0
        self._job = None  # names being generated: {"id", "steps" (a generator), ...}
        self._task = None  # a model being shared or exported: {"id", "steps", "progress"}
        self._live = None  # live names being generated while training
        self._live_last = None  # when the last live names were finished (perf_counter)
        # Seconds per unit of estimated cost (work.py's) of the last piece of training: how
        # long the next one will take is its estimate times this.
        self._s_per_cost = 0.0

    @property
    def measuring(self):
        """Whether a validation measurement is under way."""
        return bool(self._val_queue)

    def headline_loss(self):
        """The run's loss as TinyGPT quotes it (trainer.headline_loss), None before step 1."""
        newest = self.val_points[-1][1] if self.val_points else None
        return headline_loss(self.trainer.losses, newest)

    # --- training ---------------------------------------------------------------------
    def train_for(self, budget_ms, max_steps=1_000_000, live=False):
        """Train for about `budget_ms` (at least one piece of work); returns what changed.

        Pieces of work: the panel's data when it is due (see Panel), a piece of a training
        step (the step itself, or for a batch too big for one piece a chunk of its names:
        Trainer.train_piece; the step counts, and its validation starts, when its last
        piece is done), one validation document (every VAL_EVERY steps the loss on up to
        VAL_DOCS held-out names is measured, a name at a time), one letter of the names
        being generated (`start_generate`), and with `live`, one letter of a few names at
        temperature 0.5 every LIVE_EVERY_MS, made by the weights of the step they start
        at. At least one piece always runs, so the scalar engine, whose step can exceed
        the budget, still moves; until the fast engine's kernels are all compiled, that
        piece is compiling them (kernels.warm_up, a one-off the idle page has usually
        done). After that, a piece starts only if it still fits the budget: a piece of
        training as long as its estimated cost times the last one's time per unit of cost
        says, another piece as long as the last one was. The page's tasks then stay near
        the budget instead of overshooting it.
        """
        t = self.trainer
        if t is None:
            raise TinyGPTError("Start a run first.")
        start = time.perf_counter()
        deadline = start + budget_ms / 1000
        panel = self.panel.due(start) if self.panel else None  # first: it counts too
        first = t.step_count
        answer = {"val_points": []}
        # The fast engine's kernels first, if the page's idle warm-up (Session.prepare) has
        # not made them all yet (Train pressed at once): compiled inside a step, they would
        # make it long. Then, after the panel's data, training runs only if its next piece
        # fits.
        fits = kernels.warm_up(deadline) and (
            panel is None or time.perf_counter() + self._next_piece_s(t) < deadline)
        while fits:
            began = time.perf_counter()
            trained = not self._side_piece(answer, live, began)
            if trained:
                if t.done or t.step_count - first >= max_steps:
                    break
                cost = t.next_piece_cost()
                stepped = t.train_piece() is not None
                if stepped and t.val_docs and (t.step_count % VAL_EVERY == 0 or t.done):
                    self.start_validation()
            now = time.perf_counter()
            if trained:
                self._s_per_cost = (now - began) / cost
            # Would the next piece overrun? After a piece of training, the next one's
            # estimate says; after another piece, one as long as it, or the training
            # piece that may come next.
            after = self._next_piece_s(t)
            fits = now + (after if trained else max(now - began, after)) < deadline
        # done: the run has finished and its last validation loss is measured
        answer.update(step=t.step_count, done=t.done and not self._val_queue,
                      losses=t.losses[first:], loss=self.headline_loss(),
                      ms=(time.perf_counter() - start) * 1000)
        answer["val_points"] = [list(p) for p in answer["val_points"]]
        if panel is not None:
            answer["insides"] = panel
        return answer

    def _next_piece_s(self, t):
        """How long the next piece of training should take, in seconds (0 when the run
        is done or nothing has been timed yet)."""
        return 0.0 if t.done or not self._s_per_cost else t.next_piece_cost() * self._s_per_cost

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

    # --- the validation loss, a held-out name at a time -----------------------------------
    def start_validation(self):
        """Measure the validation loss of the weights now on up to VAL_DOCS held-out names
        (train_for does it a name per piece)."""
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

    # --- generating names, a letter at a time ---------------------------------------------
    def start_generate(self, n=10, temperature=0.5, prefix="", seed=None, rng=None):
        """Start generating names as a job that train_for or work_for advance a letter at
        a time; a job already running is replaced. Bad settings are refused here. `rng`:
        draw with this generator instead of a fresh one (seeded by `seed`)."""
        steps = self.model.sample_steps(n, temperature, prefix, seed, rng)
        first = next(steps)  # checks the settings and the prefix now, not later
        job_id = next(_job_ids)
        self._job = {"id": job_id, "steps": steps, "names": first, "letters": 0}
        return {"job": job_id}

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

    # --- other jobs: sharing, exporting ----------------------------------------------------
    def start_task(self, steps):
        """Start a job of pieces (one at a time; a job already running is replaced): `steps`
        is a generator that yields a line saying what it does after each piece, each
        short, and returns the job's answer. task_for runs it. Its checks are the
        caller's, made before: a job fails in the middle only on what cannot be known
        sooner."""
        job_id = next(_job_ids)
        self._task = {"id": job_id, "steps": steps, "progress": None}
        return {"job": job_id}

    def task_for(self, budget_ms):
        """Advance the job for about `budget_ms` (at least one piece): {job, done,
        progress (its last line), result (the answer, once done)}; {"job": None, ...}
        without one (it was cancelled, or the model replaced). A TinyGPTError from a
        piece ends the job and reaches the caller."""
        deadline = time.perf_counter() + budget_ms / 1000
        task = self._task
        if task is None:
            return {"job": None, "done": True, "progress": None, "result": None}
        while True:
            began = time.perf_counter()
            try:
                progress = next(task["steps"])
            except StopIteration as stop:
                self._task = None
                return {"job": task["id"], "done": True, "progress": task["progress"],
                        "result": stop.value}
            except BaseException:
                self._task = None
                raise
            task["progress"] = progress
            now = time.perf_counter()
            if now + (now - began) >= deadline:
                return {"job": task["id"], "done": False, "progress": progress, "result": None}

    def cancel_task(self):
        """Stop the sharing or exporting job, if any."""
        self._task = None
