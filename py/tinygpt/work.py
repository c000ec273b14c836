"""How much work one training step is, how it is cut into pieces, and the most the page
allows.

The page trains in tasks of about 20 ms, so the work of a piece of training must be
bounded before a run starts: the parameter count alone is not (a link with block_size
256, batch 8 and 300-letter lines made one step of 5.5 s, 99.6 s at n_embd 96, when a
step ran whole in one task). A step's cost grows with
its positions (a document trains on min(block_size, letters + 1) of them), the batch, the
layers and the model's width; attention also with the square of the positions, the
softmax with the vocabulary, and Adam with the parameter count. `step_cost` estimates it
from those (`features`), in units of the default run's step (microgpt.py's settings on
6-letter names: 5.5 ms in Pyodide on the quiet 2-core test machine).

How the coefficients were found: `scripts/measure_work.py` timed a step of 77 runs of
the fast engine and 21 of the scalar one, drawn at random (n_embd 4 to 96, 1 to 8 layers,
block 8 to 256, batch 1 to 8, lines of 3 to 255 letters, vocabularies of 10 to 257), in
Pyodide under Node (the page's WebAssembly; CPU time, so that other jobs on the shared
machine count less), each in units of the default run's step measured in the same
session (the runs: scripts/measure_work.jsonl); least squares on the relative error.
The estimates came within -25% and +18% of the measured steps (fast engine), -15% and
+14% (scalar). tests/py/test_step_bound.py checks the multiply-adds the features count
against those the engine makes.

A step need not run whole: `chunk_ranges` cuts its documents into consecutive chunks
whose estimated cost (`batch_cost`) is at most MAX_PIECE_COST, and the page runs a chunk
per piece of work (trainer.Trainer.train_piece), adding up their gradients; Adam moves
once, after the last. A batch that fits the bound is one chunk, computed exactly as it
always was. MAX_PIECE_COST is 6.5 default steps, about 36 ms in Pyodide on the test
machine: the estimates run at most 25% under the measured time, so a piece at the bound
should take under 48 ms, below the 50 ms of a long task, and the widest run the lessons
link to (n_embd 32 on US first names, 6.44 for the longest name) still fits. A chunk's
estimate counts the step's fixed costs (the constant and Adam's, per parameter) in every
chunk: the chunks before the last do not run Adam, but add their gradients up, transpose
every matrix and build zeroed gradients of the model's size, so a little less than that.

One document cannot be split, so the bound on a run (MAX_STEP_COST, checked before it
starts) is on the step of one document as long as the longest (min(block_size, letters +
1) positions), whatever the batch: for the fast engine, MAX_PIECE_COST. Everything the
page offers fits (the largest, a city name of 16 positions over 119 tokens: 3.1 units),
and a recipe's batch of 8 city names (18.5 units, about 100 ms whole) runs in four pieces.
The scalar engine, a Value per number, is slow by design: its chunks are its documents
(at the default size one name costs 7 units or more, over a piece's bound; a smaller
model's short names may share a chunk), and one document's step may cost up to 72 units
(the default run on it: 25 to 62 units, 140 to 340 ms, with the longest names of the
presets), long tasks that the lessons' slow engine is allowed. Runs above the bound train
in the terminal (`python -m tinygpt train`) or in PyTorch.
"""

from functools import lru_cache

from .checkpoint import check_page_size
from .errors import TinyGPTError
from .kernels import MAX_UNROLL
from .model import Config

__all__ = ["Config", "features", "step_cost", "batch_cost", "chunk_ranges", "check_step",
           "check_page_run", "MAX_STEP_COST", "MAX_PIECE_COST", "DEFAULT_STEP_MS"]

DEFAULT_STEP_MS = 5.5  # the unit of step_cost, in Pyodide on the quiet test machine
# Default steps per unit of each feature (fitted by `scripts/measure_work.py fit`).
COEFFICIENTS = {
    "fast": {"constant": 0.1001, "short": 3.14e-06, "long": 1.792e-05, "scores": 6.553e-05,
             "rows": 1.536e-03, "vocab": 8.017e-05, "width": 2.405e-03, "params": 1.186e-04},
    "scalar": {"constant": 0.0476, "short": 2.884e-04, "long": 2.289e-04,
               "scores": 7.387e-04, "rows": 0.0, "vocab": 3.197e-03, "width": 2.131e-02,
               "params": 0.0},
}
# The most a chunk of a step's documents may cost, in default steps: about 36 ms (see the
# module's docstring).
MAX_PIECE_COST = 6.5
# The most the step of one document (which cannot be split) may cost, per engine.
MAX_STEP_COST = {"fast": MAX_PIECE_COST, "scalar": 72.0}


def _split(length, mults):
    """(multiply-adds on rows of `length` numbers) as (short, long): rows up to
    kernels.MAX_UNROLL long run on the generated kernels, longer ones in plain Python,
    a few times slower per number."""
    return (mults, 0) if length <= MAX_UNROLL else (0, mults)


def features(config, vocab_size, batch, positions):
    """What a step's cost grows with, for `batch` documents of `positions` positions each.

    short, long: the multiply-adds of the matrix products per position, forward, the
        backward's input gradients (through the transposed matrices) and the weight
        gradients (dot products over the positions), each as the length of its rows;
    scores: attention's pairs of positions, per head (plain Python per pair);
    rows: positions x heads (slicing, a softmax's setup); vocab: positions x vocabulary
    (the softmax); width: positions x n_embd (element-wise steps); params: Adam.
    """
    B, n, L = batch, positions, config.n_layer
    E, H, V, D = config.n_embd, config.n_head, vocab_size, config.head_dim
    products = [  # (row length, multiply-adds) per position: a layer's, then the head's
        (E, 3 * E * E), (E, E * E), (E, 4 * E * E), (4 * E, 4 * E * E),  # forward
        (3 * E, 3 * E * E), (E, E * E), (4 * E, 4 * E * E), (E, 4 * E * E),  # input grads
        (min(n * B, MAX_UNROLL) if n <= MAX_UNROLL else n, 12 * E * E),  # weight grads
        # attention, per position, its pairs with the others: the scores and their
        # gradient (head_dim long), the mixing and three products of the backward (as
        # long as the document)
        (D, n * E), (n, 4 * n * E),
    ]
    short = long = 0
    for length, mults in products:
        s, l_ = _split(length, mults)
        short, long = short + L * s, long + L * l_
    for length, mults in ((E, V * E), (V, V * E), (n, V * E)):
        s, l_ = _split(length, mults)
        short, long = short + s, long + l_
    return {
        "constant": 1,
        "short": B * n * short,
        "long": B * n * long,
        "scores": B * n * n * L * H,
        "rows": B * n * L * H,
        "vocab": B * n * V,
        "width": B * n * L * E,
        # model.param_shapes' sizes added up (count_params(blank_params(...)) is the same
        # number, but builds the rows: check_step's advice asks for many costs)
        "params": (2 * V + config.block_size) * E + 12 * L * E * E,
    }


def step_cost(config, vocab_size, batch, positions, engine="fast"):
    """The estimated cost of one step, in default steps (see the module's docstring)."""
    coefficients = COEFFICIENTS[engine]
    return sum(coefficients[k] * v for k, v in features(config, vocab_size, batch,
                                                          positions).items())


@lru_cache(maxsize=64)
def fixed_cost(config, vocab_size, engine="fast"):
    """What a step costs whatever its documents: the constant and Adam's (per parameter)."""
    coefficients, found = COEFFICIENTS[engine], features(config, vocab_size, 1, 1)
    return coefficients["constant"] * found["constant"] + coefficients["params"] * found["params"]


@lru_cache(maxsize=4096)
def document_cost(config, vocab_size, positions, engine="fast"):
    """What one document of `positions` positions adds to a step's cost. (Cached: the
    chunking asks for it every step, and a Config is hashable.)"""
    return step_cost(config, vocab_size, 1, positions, engine) - fixed_cost(config, vocab_size,
                                                                            engine)


def batch_cost(config, vocab_size, positions, engine="fast"):
    """The estimated cost of a step on documents of these positions (one number each):
    step_cost's, with every document counted at its own length."""
    return fixed_cost(config, vocab_size, engine) + sum(
        document_cost(config, vocab_size, n, engine) for n in positions)


def chunk_ranges(config, vocab_size, positions, engine="fast", bound=MAX_PIECE_COST):
    """A step's documents (their positions, in order) cut into consecutive chunks whose
    batch_cost is at most `bound`, as [(start, end)]: each chunk takes as many documents
    as fit, and a document that alone costs more is a chunk of its own. Depends only on
    its arguments, so the CLI and the page cut every step alike."""
    fixed = fixed_cost(config, vocab_size, engine)
    ranges, start, cost = [], 0, fixed
    for i, n in enumerate(positions):
        more = document_cost(config, vocab_size, n, engine)
        if i > start and cost + more > bound:
            ranges.append((start, i))
            start, cost = i, fixed
        cost += more
    ranges.append((start, len(positions)))
    return ranges


def longest_positions(docs, block_size):
    """The most positions a document of `docs` trains on: min(block_size, letters + 1)."""
    return min(block_size, max(map(len, docs)) + 1)


def check_step(config, vocab_size, docs, engine, what="These settings"):
    """Refuse a run whose longest document (the longest of `docs`) would make a piece of
    training cost more than MAX_STEP_COST: a batch is split into chunks, a document is
    not. Returns that document's cost. The message says what to lower to make it fit."""
    positions = longest_positions(docs, config.block_size)
    cost = step_cost(config, vocab_size, 1, positions, engine)
    bound = MAX_STEP_COST[engine]
    if cost <= bound:
        return cost

    def fits(block=config.block_size, engine_=engine):
        n = min(block, positions)
        shape = Config(config.n_embd, config.n_head, config.n_layer, block)
        return step_cost(shape, vocab_size, 1, n, engine_) <= MAX_STEP_COST[engine_]

    advice = []
    if engine == "scalar" and fits(engine_="fast"):
        advice.append("use the fast engine")
    block = _largest(positions - 1, lambda b: fits(block=b))
    if block is not None:
        advice.append(f"set block_size to {block} or less")
    if not advice:
        advice.append("make the model smaller (n_embd, n_layer)")
    advice = advice[0] if len(advice) == 1 else ", ".join(advice[:-1]) + " or " + advice[-1]
    scalar = " on the scalar engine" if engine == "scalar" else ""
    if positions < config.block_size:
        why = f"the longest line has {positions - 1} letters"
    else:
        why = "block_size, which the longest lines fill"
    raise TinyGPTError(
        f"{what} make each training step about {cost * DEFAULT_STEP_MS:,.0f} ms of work for "
        f"a single name{scalar} (up to {positions} positions: {why}), which would freeze this "
        f"page: it trains a name or a few at a time, in pieces of up to about "
        f"{bound * DEFAULT_STEP_MS:,.0f} ms, and one name cannot be split. To train here, "
        f"{advice}. Bigger runs train with python -m tinygpt train, or in PyTorch."
    )


def _largest(high, ok):
    """The largest n in 1..high with ok(n), or None; ok holds for every n below one that
    it holds for (a step's cost grows with the block and the batch): a binary search."""
    if high < 1 or not ok(1):
        return None
    low = 1
    while low < high:
        mid = (low + high + 1) // 2
        if ok(mid):
            low = mid
        else:
            high = mid - 1
    return low


def check_page_run(pending, model_what, settings_what):
    """What the page can train: a model within checkpoint.PAGE_MAX_PARAMS whose longest
    document's step fits MAX_STEP_COST. `pending` is a trainer.PendingRun (settings, text
    and vocabulary checked, nothing drawn): both checks are cheap, so they come before
    anything is built."""
    config, vocab_size = pending.config, pending.tokenizer.vocab_size
    check_page_size(config, vocab_size, model_what)
    check_step(config, vocab_size, pending.docs, pending.settings["engine"], settings_what)
