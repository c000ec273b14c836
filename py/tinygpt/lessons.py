"""The lessons page's Python side: running code cells and the numbers of its figures.

The page runs this module in Web Workers (Pyodide). Cells go through `run_cell`; the
interactive figures call `call(name, json_args)`, which answers JSON
`{"ok": result}` or `{"error": message}`. Every number comes from the real package:
the tokenizer, `Value`, `Trainer`, `Model.attention` and `Model.next_token_probs`.
"""

import linecache
import math
import random
import sys
import time
import traceback
from collections import Counter

from . import checkpoint, exercises, jsonio
from .data import Tokenizer, parse_documents
from .errors import TinyGPTError
from .generate import check_temperature
from .trainer import Trainer
from .value import Value

CELL_FILE = "<cell>"
MAX_GRAPH_NODES = 60
MAX_TEXT = 200  # characters typed into a figure
FD_STEP = 1e-6
SAMPLING_TRAIN_STEPS = 300  # a model trained right here when the playground has none

_datasets = {}  # id -> text
_cache = {}  # name -> object (models, trainers), rebuilt when their inputs change


# --- code cells -------------------------------------------------------------------------
_scopes = {}  # lesson id -> the namespace its cells share (like a notebook's)


def start_worker():
    """Set up the lessons' Python worker (app/lessons/python-worker.js): output line by
    line, so a print reaches the page before a long computation that follows it."""
    sys.stdout.reconfigure(line_buffering=True)
    sys.stderr.reconfigure(line_buffering=True)


def run_in_scope(code, scope):
    """Run a cell of lesson `scope` in the namespace that lesson's cells share."""
    return run_cell(code, _scopes.setdefault(scope, {"__name__": "__main__"}))


def run_cell(code, namespace):
    """Run `code` in `namespace` (shared by a lesson's cells); True if it raised nothing.

    An error prints its traceback to stderr, starting at the reader's code: the frames
    of this function and of Pyodide's machinery say nothing about the mistake.
    """
    # Registered in linecache so the traceback quotes the reader's lines.
    linecache.cache[CELL_FILE] = (len(code), None, code.splitlines(True), CELL_FILE)
    try:
        exec(compile(code, CELL_FILE, "exec"), namespace)
    except BaseException as error:  # noqa: BLE001 - SystemExit too: the cell ends, we don't
        tb = error.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != CELL_FILE:
            tb = tb.tb_next
        sys.stderr.write("".join(traceback.format_exception(type(error), error, tb)))
        return False
    return True


# --- the dispatcher the figures call ----------------------------------------------------


def call(name, args_json):
    """JSON in, JSON out, with the playground's protocol (jsonio.call): {"ok": result},
    or {"error": a message for the reader, "kind": "user" | "bug"}."""
    return jsonio.call(FIGURES, name, args_json)


def _text(value, what):
    if not isinstance(value, str):
        raise TinyGPTError(f"The {what} must be text.")
    if len(value) > MAX_TEXT:
        raise TinyGPTError(f"The {what} is {len(value)} characters long; keep it under {MAX_TEXT}.")
    return value


def use_dataset(id, text):
    parse_documents(text)  # a clear message for unusable text
    _datasets[id] = text
    return {"id": id}


def _dataset(id):
    if id not in _datasets:
        raise TinyGPTError(f"The dataset {id!r} is not loaded yet.")
    return _datasets[id]


# --- lesson 1: tokens ---------------------------------------------------------------------


def tokens(dataset, text):
    """The ids of `text` under the tokenizer of a dataset, and that dataset's vocabulary."""
    text = _text(text, "text")
    docs = parse_documents(_dataset(dataset))
    tok = Tokenizer.from_docs(docs)
    known = set(tok.chars)
    pieces = [{"ch": ch, "id": tok.ids(ch)[0] if ch in known else None} for ch in text]
    unknown = sorted({ch for ch in text if ch not in known})
    counts = Counter(ch for doc in docs for ch in doc)
    vocab = [{"id": i, "ch": ch, "count": counts[ch]} for i, ch in enumerate(tok.chars)]
    return {
        "pieces": pieces,
        "unknown": unknown,
        "encoded": tok.encode("".join(ch for ch in text if ch in known)),
        "bos": tok.bos,
        "vocab": vocab,
        "docs": len(docs),
    }


# --- lesson 2: autograd -----------------------------------------------------------------


def _leaf_factory(created, bump=None, h=0.0):
    """A `Value` class for the reader's code that records the leaves it creates.

    Leaves made by the reader (`Value(2.0)`) go through this subclass; the nodes the
    operations create are plain `Value`s, so the graph is the package's own. `bump`
    adds `h` to the leaf created in that position, for the finite differences.
    """

    class LessonValue(Value):
        __slots__ = ()

        def __init__(self, data, children=(), local_grads=(), op=""):
            if len(created) == bump:
                data = data + h
            super().__init__(data, children, local_grads, op)
            created.append(self)

    LessonValue.__name__ = "Value"
    return LessonValue


def _run_expression(code, bump=None, h=0.0):
    created = []
    namespace = {"Value": _leaf_factory(created, bump, h), "math": math}
    try:
        exec(compile(code, "<expression>", "exec"), namespace)
    except Exception as error:  # noqa: BLE001 - the reader's code: any error is a message
        raise TinyGPTError(f"{type(error).__name__}: {error}") from None
    out = namespace.get("out")
    if not isinstance(out, Value):
        raise TinyGPTError("Set `out` to the Value to differentiate, e.g. out = a * b + c.")
    return namespace, created, out


def autograd(code):
    """The graph of `out` after backward(), and a central finite-difference check per leaf."""
    if not isinstance(code, str) or len(code) > 2000:
        raise TinyGPTError("The expression must be text, under 2000 characters.")
    namespace, created, out = _run_expression(code)
    order = out.topological_order()
    if len(order) > MAX_GRAPH_NODES:
        raise TinyGPTError(
            f"This graph has {len(order)} nodes; the drawing shows up to {MAX_GRAPH_NODES}. "
            "Use a smaller expression."
        )
    out.backward()
    names = {}
    for name, value in namespace.items():
        if isinstance(value, Value) and id(value) not in names:
            names[id(value)] = name
    # The reader's unnamed leaves get a name; other unnamed leaves are constants (a * 2).
    for position, leaf in enumerate(created):
        names.setdefault(id(leaf), f"leaf {position + 1}")
    index = {id(node): i for i, node in enumerate(order)}
    nodes = [
        {
            "id": i,
            "name": names.get(id(node), ""),
            "op": node._op or "leaf",  # the operation that made it, as the node records it
            "data": node.data,
            "grad": float(node.grad),
            "children": [index[id(c)] for c in node._children],
        }
        for i, node in enumerate(order)
    ]
    checks = []
    for position, leaf in enumerate(created):
        if id(leaf) not in index:
            continue  # a Value the reader made but `out` does not use
        plus = _run_expression(code, position, FD_STEP)[2].data
        minus = _run_expression(code, position, -FD_STEP)[2].data
        numeric = (plus - minus) / (2 * FD_STEP)
        error = abs(numeric - leaf.grad)
        checks.append(
            {
                "name": names[id(leaf)],
                "grad": float(leaf.grad),
                "numeric": numeric,
                "ok": error <= 1e-4 * max(1.0, abs(leaf.grad)),
            }
        )
    return {"nodes": nodes, "checks": checks, "out": out.data}


# --- a model to look at (lessons 3 and 5) ---------------------------------------------------


def set_run(state_json=None):
    """The playground's saved run (Trainer state as JSON), or None for none."""
    if state_json is None:
        _cache.pop("run", None)
        return {"source": None}
    state = jsonio.loads(state_json, "The saved playground run", checkpoint.MAX_RUN_CHARS)
    # The size first, from the settings alone: a few hundred bytes may claim a model of
    # millions of weights (only attention's forward pass runs here, so a step's cost
    # does not matter).
    trainer = Trainer.from_state(state, check=lambda pending: checkpoint.check_page_size(
        pending.config, pending.tokenizer.vocab_size, "The playground's saved run"))
    _cache["run"] = trainer
    return {"source": _describe(trainer)}


def _describe(trainer):
    c = trainer.config
    return (
        f"the model you trained in the playground ({trainer.step_count} steps, "
        f"n_embd={c.n_embd}, n_head={c.n_head}, n_layer={c.n_layer})"
    )


def _untrained(dataset):
    key = ("untrained", dataset)
    if key not in _cache:
        _cache[key] = Trainer(_dataset(dataset))
    return _cache[key]


def _trained_here(dataset):
    key = ("trained", dataset)
    if key not in _cache:
        trainer = Trainer(_dataset(dataset), steps=SAMPLING_TRAIN_STEPS)
        while not trainer.done:
            trainer.step()
        _cache[key] = trainer
    return _cache[key]


def attention(dataset, name):
    """Attention weights [layer][head][query][key] for BOS + name, and the model used."""
    name = _text(name, "name")
    if "run" in _cache:
        trainer, source = _cache["run"], _describe(_cache["run"])
    else:
        trainer = _untrained(dataset)
        source = "an untrained model (default settings, seed 42): train one in the playground"
    block = trainer.config.block_size
    shown = name[: block - 1]
    layers = trainer.attention(shown)
    return {
        "tokens": ["BOS"] + list(shown),
        "layers": layers,
        "source": source,
        "cut": len(name) - len(shown),  # characters past the model's block, not shown
        "block_size": block,
    }


# --- lesson 4: training -----------------------------------------------------------------------


def _norm(rows):
    return math.sqrt(sum(x * x for row in rows for x in row))


def train_reset(dataset):
    trainer = _cache["lesson4"] = Trainer(_dataset(dataset))
    return {"step": 0, "doc": trainer.train_docs[0], "matrices": list(trainer.params)}


def train_step():
    """One step of Trainer.step, with the gradient and update size of each matrix."""
    trainer = _cache.get("lesson4")
    if trainer is None:
        raise TinyGPTError("Start the training figure first.")
    k = trainer.step_count
    doc = trainer.train_docs[k % len(trainer.train_docs)]
    lr = trainer.optimizer.learning_rate(k)
    before = trainer.params
    loss, grads = trainer.gradients()  # Trainer.step, in its two halves
    trainer.apply(loss, grads)
    matrices = [
        {
            "name": name,
            "grad": _norm(grads[name]),
            "update": _norm(
                [[a - b for a, b in zip(ra, rb)] for ra, rb in zip(trainer.params[name], rows)]
            ),
        }
        for name, rows in before.items()
    ]
    return {
        "step": trainer.step_count,
        "doc": doc,
        "loss": loss,
        "lr": lr,
        "matrices": matrices,
        "next_doc": trainer.train_docs[trainer.step_count % len(trainer.train_docs)],
    }


def race_reset(dataset, engines=("fast", "scalar")):
    for engine in engines:
        _cache[f"race-{engine}"] = Trainer(_dataset(dataset), engine=engine)
    return {"engines": list(engines)}


def race_step(engine):
    trainer = _cache.get(f"race-{engine}")
    if trainer is None:
        raise TinyGPTError("Start the race first.")
    started = time.perf_counter()
    loss = trainer.step()
    return {"ms": (time.perf_counter() - started) * 1000, "loss": loss, "step": trainer.step_count}


# --- lesson 5: sampling ---------------------------------------------------------------------


def _sampling_model(dataset):
    if "run" in _cache:
        return _cache["run"], _describe(_cache["run"])
    steps = SAMPLING_TRAIN_STEPS
    return _trained_here(dataset), f"a model trained here for {steps} steps on {dataset}"


def next_probs(dataset, context, temperature):
    """The next-letter probabilities after BOS + context, and the longest name the model
    writes (Model.max_name_length), which sets how long the figure's "name so far" may be."""
    context = _text(context, "context")
    trainer, source = _sampling_model(dataset)
    probs = trainer.next_token_probs(context, temperature)
    return {
        "probs": [[ch, p] for ch, p in probs],
        "source": source,
        "max_name_length": trainer.max_name_length,
    }


def draw(dataset, context, temperature, seed):
    """The next letter after `context`, drawn exactly as Model.sample draws it from
    random.Random(seed) ("" is BOS, the end mark), and whether the name ends there by
    Model.ends_name: at the end mark, or at the most letters the model writes."""
    context = _text(context, "context")
    trainer, _ = _sampling_model(dataset)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TinyGPTError("The seed must be a whole number.")
    temperature = check_temperature(temperature)
    _, ids, logits = trainer._start(context)  # refuses a context the model cannot extend
    probs = trainer.probabilities(logits, temperature)
    token = random.Random(seed).choices(range(trainer.tokenizer.vocab_size), weights=probs)[0]
    length = len(ids) + (token != trainer.tokenizer.bos)
    return {
        "ch": trainer.tokenizer.decode([token]),
        "p": probs[token],
        "ends": trainer.ends_name(token, length),
        "max_name_length": trainer.max_name_length,
    }


# --- lesson 6: memorising or learning ---------------------------------------------------------

OVERFIT_SIZES = (10, 100, 1000)  # names to pick from the dataset
OVERFIT_VAL_FRACTION = 0.2
OVERFIT_STEPS = 500
OVERFIT_EVERY = 50  # steps between two measurements (one request of the figure)
OVERFIT_EVAL_DOCS = 50  # names measured on each side
OVERFIT_SAMPLES = 20


def overfit_start(dataset, names):
    """A run on `names` names of a dataset (a fixed random pick), a fifth held out for
    validation by the Trainer itself, and its first measurement (step 0)."""
    if names not in OVERFIT_SIZES:
        raise TinyGPTError(f"Choose {', '.join(map(str, OVERFIT_SIZES))} names.")
    docs = parse_documents(_dataset(dataset))
    pick = random.Random(0).sample(docs, min(names, len(docs)))
    trainer = Trainer(
        "\n".join(pick), steps=OVERFIT_STEPS, val_fraction=OVERFIT_VAL_FRACTION
    )
    _cache["overfit"] = trainer
    return {
        "train_docs": len(trainer.train_docs),
        "val_docs": len(trainer.val_docs),
        "steps": trainer.steps,
        "point": _overfit_point(trainer),
    }


def _overfit_point(trainer):
    """The mean loss per name on training and on held-out names, with the same weights."""
    return {
        "step": trainer.step_count,
        "train": trainer.evaluate_docs(trainer.train_docs[:OVERFIT_EVAL_DOCS]),
        "val": trainer.evaluate(OVERFIT_EVAL_DOCS),
    }


def overfit_train():
    """OVERFIT_EVERY more steps of the run, then a measurement; at the end, samples."""
    trainer = _cache.get("overfit")
    if trainer is None:
        raise TinyGPTError("Start the run first.")
    for _ in range(OVERFIT_EVERY):
        if trainer.done:
            break
        trainer.step()
    answer = {"point": _overfit_point(trainer), "done": trainer.done}
    if trainer.done:
        train, held_out = set(trainer.train_docs), set(trainer.val_docs)
        answer["samples"] = [
            {"name": name, "trained_on": name in train, "held_out": name in held_out}
            for name in trainer.sample(n=OVERFIT_SAMPLES, temperature=0.5, seed=1)
        ]
    return answer


# --- exercises (lessons 1 to 5) and "Train with my code" (lesson 6) ------------------------

TRAIN_MAX_BUDGET_MS = 1000


def exercise_check(exercise, code):
    """The learner's code for an exercise, checked (tinygpt.exercises.check)."""
    return exercises.check(exercise, code)


def exercise_solution(exercise):
    return {"exercise": exercise, "code": exercises.solution(exercise)}


def exercise_train_start(codes, dataset, steps):
    """A "Train with my code" run on a dataset: which pieces are the learner's, and the
    settings; exercise_train_work then runs it."""
    _cache.pop("exercise-train", None)
    job = exercises.TrainJob(codes, _dataset(dataset), steps)
    _cache["exercise-train"] = job
    return job.describe()


def exercise_train_work(budget_ms):
    """About budget_ms more of the run: {events, done, result}."""
    job = _cache.get("exercise-train")
    if job is None:
        raise TinyGPTError("Press Train with my code first.")
    if isinstance(budget_ms, bool) or not isinstance(budget_ms, (int, float)) or not (
        0 < budget_ms <= TRAIN_MAX_BUDGET_MS
    ):
        raise TinyGPTError(f"The budget is a number of milliseconds up to {TRAIN_MAX_BUDGET_MS}.")
    return job.advance(budget_ms)


FIGURES = {
    "use_dataset": use_dataset,
    "tokens": tokens,
    "autograd": autograd,
    "set_run": set_run,
    "attention": attention,
    "train_reset": train_reset,
    "train_step": train_step,
    "race_reset": race_reset,
    "race_step": race_step,
    "next_probs": next_probs,
    "draw": draw,
    "overfit_start": overfit_start,
    "overfit_train": overfit_train,
    "exercise_check": exercise_check,
    "exercise_solution": exercise_solution,
    "exercise_train_start": exercise_train_start,
    "exercise_train_work": exercise_train_work,
}
