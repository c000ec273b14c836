""""Train with my code": the scalar GPT trained with the learner's pieces, beside the
package's own run of the same seed, step for step; where the losses part, which piece
makes them part; then names written with the learner's sampling.

The GPT here is model.gpt's, arranged layer by layer instead of position by position:
the exercises' attention head sees every position of a name at once (so that it can show
its causal mask), where gpt() works one position at a time with a cache. The operations
and the graph they build are the same, so with the package's own pieces the losses are
the scalar engine's bit for bit (tests/py/test_exercises.py holds them to Trainer's).
"""

import math
import random
import time

from ..errors import TinyGPTError
from ..model import count_params, linear, rmsnorm
from ..optim import flatten, unflatten
from ..trainer import Trainer
from .checker import EXERCISES
from .compare import show
from .learner import describe, filename, where
from .pieces import PIECES, load_pieces, passing_code

# A small model and few steps: the scalar engine builds a Value per number, and the run
# goes twice (the learner's pieces and the package's), so it must finish in seconds.
SETTINGS = dict(n_embd=8, n_head=2, n_layer=1, block_size=8, lr=0.01, seed=42)
STEP_CHOICES = (30, 100, 300)
TOLERANCE = 1e-12  # relative: the losses agree "to 1e-12"
NAMES, TEMPERATURE, SAMPLE_SEED = 5, 0.5, 1


def forward(pieces, state, config, tokens):
    """The logits of every position of `tokens` (at most block_size of them)."""
    n_head, head_dim = config.n_head, config.head_dim
    xs = [[t + p for t, p in zip(state["wte"][tok], state["wpe"][pos])]
          for pos, tok in enumerate(tokens)]
    xs = [rmsnorm(x) for x in xs]
    for li in range(config.n_layer):
        residual = xs
        xs = [rmsnorm(x) for x in xs]
        qs = [linear(x, state[f"layer{li}.attn_wq"]) for x in xs]
        ks = [linear(x, state[f"layer{li}.attn_wk"]) for x in xs]
        vs = [linear(x, state[f"layer{li}.attn_wv"]) for x in xs]
        joined = [[] for _ in xs]  # every head's output, end to end, per position
        for h in range(n_head):
            hs = slice(h * head_dim, (h + 1) * head_dim)
            outs = pieces.attention_head([q[hs] for q in qs], [k[hs] for k in ks],
                                         [v[hs] for v in vs])
            for row, out in zip(joined, outs):
                row.extend(out)
        xs = [linear(x, state[f"layer{li}.attn_wo"]) for x in joined]
        xs = [[a + b for a, b in zip(x, r)] for x, r in zip(xs, residual)]
        residual = xs
        xs = [linear(rmsnorm(x), state[f"layer{li}.mlp_fc1"]) for x in xs]
        xs = [linear([xi.relu() for xi in x], state[f"layer{li}.mlp_fc2"]) for x in xs]
        xs = [[a + b for a, b in zip(x, r)] for x, r in zip(xs, residual)]
    return [linear(x, state["lm_head"]) for x in xs]


def as_values(value_class, params):
    return {name: [[value_class(w) for w in row] for row in m] for name, m in params.items()}


class PiecesRun:
    """A training run of the scalar GPT made of `pieces`: the documents, initial weights
    and learning rates of Trainer(text, engine="scalar", ...) with the same settings."""

    def __init__(self, pieces, text, steps):
        start = Trainer(text, engine="scalar", steps=steps, **SETTINGS)
        self.pieces, self.config = pieces, start.config
        self.chars, self.docs = list(start.tokenizer.chars), start.train_docs
        self.params, self.schedule = start.params, start.optimizer
        n = count_params(self.params)
        self.m, self.v = [0.0] * n, [0.0] * n
        self.step_count = 0

    def step(self):
        """One step on the next name; its loss (before the update)."""
        p, k = self.pieces, self.step_count
        tokens = p.encode(self.docs[k % len(self.docs)], list(self.chars))
        n = min(self.config.block_size, len(tokens) - 1)
        state = as_values(p.Value, self.params)
        loss = p.name_loss(forward(p, state, self.config, tokens[:n]), tokens[1 : n + 1])
        loss.backward()
        grads = {name: [[float(w.grad) for w in row] for row in m] for name, m in state.items()}
        flat = flatten(self.params, self.params)
        p.adam_update(flat, flatten(grads, self.params), self.m, self.v, k,
                      self.schedule.learning_rate(k))
        self.params = unflatten(flat, self.params)
        self.step_count += 1
        return float(loss.data)

    def sample(self, n=NAMES, temperature=TEMPERATURE, seed=SAMPLE_SEED):
        """Names written by this model with the pieces' sampling (as Model.sample: from
        BOS, until BOS or block_size letters)."""
        p, config, bos = self.pieces, self.config, len(self.chars)
        rng, state = random.Random(seed), as_values(p.Value, self.params)
        names = []
        for _ in range(n):
            ids = []
            while True:
                logits = forward(p, state, config, [bos] + ids)[-1]
                token = p.sample_next([float(x.data) for x in logits], temperature, rng)
                if token != bos:
                    ids.append(token)
                if token == bos or len(ids) >= config.block_size:
                    break
            names.append(p.decode(ids, list(self.chars)))
        return names


def agree(a, b):
    return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=0.0)


def first_parting(losses, reference):
    """The first step (counted from 1) whose losses do not agree, or None."""
    return next((k + 1 for k, (a, b) in enumerate(zip(losses, reference)) if not agree(a, b)),
                None)


def _finite(x):
    return x if isinstance(x, float) and math.isfinite(x) else None


def _blame(error):
    """(the exercise whose code raised, the sentence), from the traceback."""
    files = {filename(piece): piece for piece in PIECES}
    place = where(error, files)
    piece = files[place[2]] if place else None
    subject = EXERCISES[piece].subject if piece else "Your pieces"
    return piece, describe(error, set(files), subject)


class TrainJob:
    """The whole "Train with my code" run as a sequence of small pieces of work (a
    generator), so the page can show the losses as they come and stop it."""

    def __init__(self, codes, text, steps):
        if type(steps) is not int or steps not in STEP_CHOICES:
            raise TinyGPTError(f"Train for {', '.join(map(str, STEP_CHOICES))} steps.")
        self.passing, self.standing_in = passing_code(codes)
        self.text, self.steps = text, steps
        self.pieces = load_pieces(self.passing)
        self.mine = PiecesRun(self.pieces, text, steps)
        self.reference = Trainer(text, engine="scalar", steps=steps, **SETTINGS)
        self.work = self._run()
        self.result = None

    def describe(self):
        return {
            "steps": self.steps,
            "settings": dict(SETTINGS, engine="scalar", steps=self.steps),
            "yours": list(self.pieces.yours),
            "standing_in": [{"exercise": p, "why": why} for p, why in self.standing_in.items()],
        }

    def advance(self, budget_ms):
        """Work for about budget_ms (at least one piece); the events since the last call."""
        deadline = time.perf_counter() + budget_ms / 1000
        events = []
        while self.result is None:
            event = next(self.work)
            events.append(event)
            if event["phase"] == "done":
                self.result = event["result"]
            if time.perf_counter() >= deadline:
                break
        return {"events": events, "done": self.result is not None, "result": self.result}

    def _run(self):
        losses, reference, failure = [], [], None
        for k in range(self.steps):
            try:
                loss = self.mine.step()
            except Exception as error:  # noqa: BLE001 - the learner's pieces: any error
                failure = (k + 1, *_blame(error))
                break
            losses.append(loss)
            reference.append(self.reference.step())
            yield {"phase": "training", "step": k + 1, "loss": _finite(loss),
                   "reference": reference[-1]}
        parting = failure[0] if failure else first_parting(losses, reference)
        culprits = []  # an exception names its piece itself (its traceback)
        if parting is not None and failure is None:
            for piece in self.pieces.yours:
                yield {"phase": "locating", "piece": piece}
                if self._parts_alone(piece, parting, reference):
                    culprits.append(piece)
        names = reference_names = None
        names_error = None
        if failure is None:
            yield {"phase": "sampling"}
            reference_names = self.reference.sample(n=NAMES, temperature=TEMPERATURE,
                                                    seed=SAMPLE_SEED)
            try:
                names = self.mine.sample()
            except Exception as error:  # noqa: BLE001
                names_error = _blame(error)[1]
        result = self._result(losses, reference, parting, failure, culprits)
        result.update(self._names(names, reference_names, names_error))
        yield {"phase": "done", "result": result}

    def _parts_alone(self, piece, parting, reference):
        """Whether the run with only this piece of the learner's parts from the package's
        run by step `parting`."""
        run = PiecesRun(load_pieces(self.passing, only=piece), self.text, self.steps)
        for k in range(parting):
            try:
                if not agree(run.step(), reference[k]):
                    return True
            except Exception:  # noqa: BLE001 - it raises alone too
                return True
        return False

    def _result(self, losses, reference, parting, failure, culprits):
        steps = self.steps
        standing = [p for p in PIECES if p not in self.pieces.yours]
        stood_in = (f" TinyGPT's own stood in for: {', '.join(standing)}." if standing else "")
        result = {"steps": steps, "first_step": parting, "culprits": culprits,
                  "yours": list(self.pieces.yours), "standing_in": standing,
                  "largest_difference": None}
        if failure is not None:
            step, piece, sentence = failure
            result.update(state="differ", message=f"Training stopped at step {step}: {sentence}"
                          + stood_in, culprits=[piece] if piece else [])
            return result
        largest = max((abs(a - b) for a, b in zip(losses, reference)), default=0.0)
        result["largest_difference"] = _finite(largest)
        if parting is None:
            if not self.pieces.yours:
                message = (f"None of your pieces passes its check yet, so this was TinyGPT's "
                           f"own run: the same losses over {steps} steps, as it must be. Solve "
                           "the exercises to put your pieces in.")
            else:
                exact = ("bit for bit, in fact" if largest == 0 else
                         f"the largest difference: {largest:.1e}")
                message = (f"Your pieces give the same losses as TinyGPT to 1e-12 over {steps} "
                           f"steps ({exact}).{stood_in}")
            result.update(state="match", message=message)
            return result
        a, b = losses[parting - 1], reference[parting - 1]
        message = (f"Your run parts from TinyGPT's at step {parting}: your loss is {show(a, 12)}, "
                   f"TinyGPT's {show(b, 12)} (more than 1e-12 apart). ")
        if culprits:
            alone = " or ".join(f"your {c}" for c in culprits)
            message += (f"With only {alone} in place of TinyGPT's, the losses part by that "
                        f"step too: that is where to look.")
        else:
            message += ("No piece of yours alone makes them part by that step; together they "
                        "do.")
        result.update(state="differ", message=message + stood_in)
        return result

    def _names(self, names, reference_names, error):
        if error is not None:
            return {"names": None, "reference_names": reference_names,
                    "names_message": f"Writing names stopped: {error}"}
        if names is None:
            return {"names": None, "reference_names": None, "names_message": ""}
        safe = [n if isinstance(n, str) else show(n) for n in names]
        whose = "your" if "sample" in self.pieces.yours else "TinyGPT's"
        said = (f"Names your model writes with {whose} sampling (temperature {TEMPERATURE}, "
                f"random.Random({SAMPLE_SEED}))")
        if safe == reference_names:
            said += ": the same as TinyGPT's run writes."
        else:
            said += f"; TinyGPT's run writes {', '.join(reference_names)}."
        return {"names": safe, "reference_names": reference_names, "names_message": said}
