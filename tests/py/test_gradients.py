"""Gradients of both engines against finite differences, and the engines against each other.

Random small configurations: 2-3 layers, 2-4 heads, blocks of 3-5 positions with
documents longer than the block (and one shorter), vocabularies with non-ASCII
characters. Derivatives are estimated with a fourth-order central difference, so the
truncation error stays far below the 1e-6 relative tolerance. The differences are taken
of each engine's loss alone, its forward pass without the backward one.
"""

import gc
import random

import pytest

from tinygpt import fast, model
from tinygpt.data import Tokenizer
from tinygpt.generate import Model
from tinygpt.value import Value

ENGINES = {"scalar": model.loss_and_grads, "fast": fast.loss_and_grads}


def scalar_loss(params, config, tokens):
    """The scalar engine's loss of a document, forward only: a graph of Values, no backward."""
    with model.collector_paused():  # as the scalar step does
        return _scalar_loss(params, config, tokens)


def _scalar_loss(params, config, tokens):
    state = {name: [[Value(w) for w in row] for row in m] for name, m in params.items()}
    return model.document_loss(state, config, tokens).data


def fast_loss(params, config, tokens, tokenizer):
    """The fast engine's loss of a document, forward only (what evaluation computes)."""
    return Model(config, tokenizer, params).document_loss(tokenizer.decode(tokens))


def forward_loss(engine, config, tokenizer):
    """params, tokens -> the engine's loss, without gradients."""
    if engine == "scalar":
        return lambda params, tokens: scalar_loss(params, config, tokens)
    return lambda params, tokens: fast_loss(params, config, tokens, tokenizer)
ALPHABET = list("abcxyz") + ["é", "ß", "日", "本", "ñ", "Ω", "😀"]
H = 1e-4


def make_case(seed):
    rng = random.Random(seed)
    n_layer = rng.choice([2, 3])
    n_head = rng.choice([2, 3, 4])
    head_dim = rng.choice([1, 2, 3])
    block = rng.choice([3, 4, 5])
    config = model.Config(n_embd=n_head * head_dim, n_head=n_head, n_layer=n_layer,
                          block_size=block)
    chars = rng.sample(ALPHABET, rng.randint(4, len(ALPHABET)))
    tok = Tokenizer(sorted(chars))
    # larger weights than the 0.08 init: bigger, more varied gradients in every layer
    params = {
        name: [[rng.gauss(0, 0.4) for _ in range(cols)] for _ in range(rows)]
        for name, rows, cols in model.param_shapes(config, tok.vocab_size)
    }
    return config, tok, params, chars, rng


def documents(chars, block, rng):
    long_doc = "".join(rng.choice(chars) for _ in range(block + rng.randint(2, 4)))
    short_doc = "".join(rng.choice(chars) for _ in range(max(1, block - 2)))
    return {"long": long_doc, "short": short_doc}


def perturbed(params, name, r, c, delta):
    out = {k: [row[:] for row in m] for k, m in params.items()}
    out[name][r][c] += delta
    return out


def numeric_grad(loss_fn, params, name, r, c):
    f = {d: loss_fn(perturbed(params, name, r, c, d * H)) for d in (-2, -1, 1, 2)}
    return (8 * (f[1] - f[-1]) - (f[2] - f[-2])) / (12 * H)


def entries_to_check(params, rng, per_matrix=3):
    """A few random entries of every parameter matrix (plus a corner of each)."""
    picks = []
    for name, mat in params.items():
        rows, cols = len(mat), len(mat[0])
        chosen = {(0, 0)} | {(rng.randrange(rows), rng.randrange(cols)) for _ in range(per_matrix)}
        picks += [(name, r, c) for r, c in sorted(chosen)]
    return picks


CASES = [(seed, engine) for seed in range(3) for engine in ENGINES]


@pytest.mark.parametrize("seed,engine", CASES)
def test_gradients_match_finite_differences(seed, engine):
    config, tok, params, chars, rng = make_case(seed)
    tokens = tok.encode(documents(chars, config.block_size, rng)["long"])
    assert len(tokens) - 1 > config.block_size
    loss, grads = ENGINES[engine](params, config, tokens)
    forward = forward_loss(engine, config, tok)
    assert abs(forward(params, tokens) - loss) <= 1e-12 * loss  # the same function

    def loss_fn(p):
        return forward(p, tokens)

    assert set(grads) == set(params)
    checked, nonzero = 0, 0
    for name, r, c in entries_to_check(params, random.Random(seed + 100)):
        want = numeric_grad(loss_fn, params, name, r, c)
        got = grads[name][r][c]
        denom = max(abs(want), abs(got), 1e-4)
        assert abs(got - want) / denom < 1e-6, (
            f"{engine} {name}[{r}][{c}]: analytic {got!r}, numeric {want!r} ({config})"
        )
        checked += 1
        nonzero += abs(want) > 1e-4
    assert checked >= 2 * len(params)
    assert nonzero >= checked // 3  # the test must not pass on zeros alone


@pytest.mark.parametrize("seed", range(6))
def test_fast_equals_scalar_loss_and_every_gradient(seed):
    config, tok, params, chars, rng = make_case(seed)
    for kind, doc in documents(chars, config.block_size, rng).items():
        tokens = tok.encode(doc)
        ls, gs = model.loss_and_grads(params, config, tokens)
        lf, gf = fast.loss_and_grads(params, config, tokens)
        assert abs(ls - lf) <= 1e-9 * abs(ls)
        assert set(gs) == set(gf) == set(params)
        for name, mat in params.items():
            assert len(gf[name]) == len(mat) and len(gs[name]) == len(mat), name
            scale = max(abs(x) for row in gs[name] for x in row)
            for r, (row_s, row_f) in enumerate(zip(gs[name], gf[name])):
                assert len(row_s) == len(row_f) == len(mat[0])
                for c, (a, b) in enumerate(zip(row_s, row_f)):
                    assert isinstance(b, float)
                    # relative to the entry, guarded by the matrix's largest gradient
                    tol = 1e-9 * max(abs(a), abs(b), 1e-3 * scale, 1e-12)
                    assert abs(a - b) <= tol, f"{kind} {name}[{r}][{c}]: {a!r} vs {b!r}"


def test_unused_rows_get_zero_gradient():
    config, tok, params, chars, rng = make_case(1)
    doc = chars[0] * 1  # one character: positions 0 and 1 only
    tokens = tok.encode(doc)
    for fn in ENGINES.values():
        _, g = fn(params, config, tokens)
        for pos in range(2, config.block_size):
            assert all(x == 0 for x in g["wpe"][pos])
        used = {tok.bos, tokens[1]}
        for t in range(tok.vocab_size):
            if t not in used:
                assert all(x == 0 for x in g["wte"][t])
            else:
                assert any(x != 0 for x in g["wte"][t])



def test_the_scalar_step_pauses_the_garbage_collector_and_restores_it(monkeypatch):
    config = model.Config(n_embd=8, n_head=2, n_layer=1, block_size=8)
    tok = Tokenizer(list("abcdefghij"))
    params = model.init_params(config, tok.vocab_size, random.Random(0))
    tokens = tok.encode("abcdefghij")
    graph, walked = [], []
    document_loss = model.document_loss

    def building(*args):  # the graph is built with the collector paused
        assert not gc.isenabled()
        loss = document_loss(*args)
        graph.append(len(loss.topological_order()))
        return loss

    def collecting(phase, info):  # how many objects each collection walks
        if phase == "start":
            walked.append(len(gc.get_objects(generation=0)))

    monkeypatch.setattr(model, "document_loss", building)
    gc.callbacks.append(collecting)
    try:
        for _ in range(3):
            model.loss_and_grads(params, config, tokens)
            assert gc.isenabled()
        assert len(graph) == 3 and graph[0] > 10_000
        # No collection walks a step's graph: it is freed before the pause ends.
        assert all(n < graph[0] / 5 for n in walked), (walked, graph)
        gc.disable()
        model.loss_and_grads(params, config, tokens)
        assert not gc.isenabled()  # a caller's own pause stays
    finally:
        gc.enable()
        gc.callbacks.remove(collecting)
    with pytest.raises(RuntimeError):
        with model.collector_paused():
            assert not gc.isenabled()
            raise RuntimeError("a step that fails")
    assert gc.isenabled()  # an error inside ends the pause too
