"""tinygpt against an independent transcription of microgpt.py (microgpt_reference.py).

The scalar engine must reproduce the reference bit for bit (same operations in the
same order); the fast engine computes the same function in another order, so it must
agree within 1e-9.
"""

import math
import os

import pytest
from helpers import REFERENCE_NAMES, REFERENCE_TEXT
from microgpt_reference import MicroGPT

from tinygpt.model import collector_paused
from tinygpt.trainer import Trainer

SCALAR_STEPS = 20
# 100 steps of the reference take ~13 s on a 2-core machine; 50 keep the suite short.
FAST_STEPS = int(os.environ.get("TINYGPT_REFERENCE_FAST_STEPS", "50"))


@pytest.fixture(scope="module")
def reference():
    ref = MicroGPT(REFERENCE_TEXT)
    out = {"docs": list(ref.docs), "chars": list(ref.uchars), "init": ref.state_floats()}
    losses = []
    with collector_paused():  # as tinygpt's scalar engine does: a third faster, same bits
        for k in range(max(SCALAR_STEPS, FAST_STEPS)):
            losses.append(ref.step())
            if k + 1 == SCALAR_STEPS:
                out["params_scalar"] = ref.state_floats()
            if k + 1 == FAST_STEPS:
                out["params_fast"] = ref.state_floats()
    out["losses"] = losses
    return out


def test_reference_sanity(reference):
    assert len(REFERENCE_NAMES) == 200 and len(reference["docs"]) == 200
    assert sorted(reference["docs"]) == sorted(REFERENCE_NAMES)
    assert reference["docs"] != REFERENCE_NAMES  # shuffled
    # the untrained model predicts roughly uniformly: loss near log(vocab)
    assert abs(reference["losses"][0] - math.log(len(reference["chars"]) + 1)) < 0.5
    assert all(math.isfinite(x) for x in reference["losses"])


def test_same_documents_tokenizer_and_initial_parameters(reference):
    t = Trainer(REFERENCE_TEXT)
    assert t.train_docs == reference["docs"]
    assert t.tokenizer.chars == reference["chars"]
    assert t.tokenizer.bos == len(reference["chars"])
    assert list(t.params) == list(reference["init"])  # same names in the same order
    assert t.params == reference["init"]  # bitwise


def test_scalar_engine_is_bitwise_identical(reference):
    t = Trainer(REFERENCE_TEXT, engine="scalar")
    losses = [t.step() for _ in range(SCALAR_STEPS)]
    for k, (got, want) in enumerate(zip(losses, reference["losses"])):
        assert got == want, f"step {k}: {got!r} != {want!r}"
    assert t.losses == losses
    assert t.params == reference["params_scalar"]


def test_fast_engine_within_1e9(reference):
    t = Trainer(REFERENCE_TEXT, engine="fast")
    losses = [t.step() for _ in range(FAST_STEPS)]
    for k, (got, want) in enumerate(zip(losses, reference["losses"])):
        assert abs(got - want) <= 1e-9, f"step {k}: {got!r} vs {want!r}"
    worst = max(
        abs(a - b)
        for name, mat in reference["params_fast"].items()
        for ra, rb in zip(mat, t.params[name])
        for a, b in zip(ra, rb)
    )
    assert worst <= 1e-9


def test_non_default_config_scalar_bitwise_fast_close():
    """Two layers, two heads, a block shorter than most names, another seed and lr."""
    text = "\n".join(REFERENCE_NAMES[:40] + ["josé", "ßtraße", "日本"])
    settings = dict(n_embd=8, n_head=2, n_layer=2, block_size=4, lr=0.02, steps=50, seed=7,
                    beta1=0.9, beta2=0.95, eps=1e-6)
    ref = MicroGPT(text, **settings)
    want = [ref.step() for _ in range(6)]
    scalar = Trainer(text, engine="scalar", **settings)
    fast = Trainer(text, engine="fast", **settings)
    assert scalar.params == fast.params
    assert [scalar.step() for _ in range(6)] == want
    assert scalar.params == ref.state_floats()
    for got, w in zip([fast.step() for _ in range(6)], want):
        assert abs(got - w) <= 1e-9
