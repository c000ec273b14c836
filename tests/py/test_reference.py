"""tinygpt against an independent transcription of microgpt.py (microgpt_reference.py).

The scalar engine must reproduce the reference bit for bit (same operations in the
same order); the fast engine computes the same function in another order, so it must
agree within 1e-9.
"""

import math
import os

import pytest
from microgpt_reference import MicroGPT

from tinygpt.trainer import Trainer

NAMES = """
emma olivia ava isabella sophia charlotte mia amelia harper evelyn abigail emily
elizabeth mila ella avery sofia camila aria scarlett victoria madison luna grace
chloe penelope layla riley zoey nora lily eleanor hannah lillian addison aubrey
ellie stella natalie zoe leah hazel violet aurora savannah audrey brooklyn bella
claire skylar lucy paisley everly anna caroline nova genesis emilia kennedy samantha
maya willow kinsley naomi aaliyah elena sarah ariana allison gabriella alice
madelyn cora ruby eva serenity autumn adeline hailey gianna valentina isla eliana
quinn nevaeh ivy sadie piper lydia alexa josephine emery julia delilah arianna
vivian kaylee sophie brielle madeline liam noah william james oliver benjamin
elijah lucas mason logan alexander ethan jacob michael daniel henry jackson
sebastian aiden matthew samuel david joseph carter owen wyatt john jack luke
jayden dylan grayson levi isaac gabriel julian mateo anthony jaxon lincoln joshua
christopher andrew theodore caleb ryan asher nathan thomas leo isaiah charles
josiah hudson christian hunter connor eli ezra aaron landon adrian jonathan nolan
jeremiah easton elias colton cameron carson robert angel maverick nicholas dominic
jaxson greyson adam ian austin santiago jordan cooper brayden roman evan ezekiel
xavier jose jace jameson leonardo bryson axel everett parker kayden miles sawyer
jason declan weston micah ayden wesley luca vincent damian zachary silas gavin
""".split()[:200]
# Messy input on purpose: surrounding spaces, blank lines and a trailing newline must
# be handled exactly like microgpt.py does (strip, drop empty lines).
TEXT = "\n".join(f"  {name} " if i % 7 == 0 else name for i, name in enumerate(NAMES))
TEXT = TEXT.replace("\nmia\n", "\n\n   \nmia\n") + "\n\n"

SCALAR_STEPS = 20
# 100 steps of the reference take ~13 s on a 2-core machine; 50 keep the suite short.
FAST_STEPS = int(os.environ.get("TINYGPT_REFERENCE_FAST_STEPS", "50"))


@pytest.fixture(scope="module")
def reference():
    ref = MicroGPT(TEXT)
    out = {"docs": list(ref.docs), "chars": list(ref.uchars), "init": ref.state_floats()}
    losses = []
    for k in range(max(SCALAR_STEPS, FAST_STEPS)):
        losses.append(ref.step())
        if k + 1 == SCALAR_STEPS:
            out["params_scalar"] = ref.state_floats()
        if k + 1 == FAST_STEPS:
            out["params_fast"] = ref.state_floats()
    out["losses"] = losses
    return out


def test_reference_sanity(reference):
    assert len(NAMES) == 200 and len(reference["docs"]) == 200
    assert sorted(reference["docs"]) == sorted(NAMES)
    assert reference["docs"] != NAMES  # shuffled
    # the untrained model predicts roughly uniformly: loss near log(vocab)
    assert abs(reference["losses"][0] - math.log(len(reference["chars"]) + 1)) < 0.5
    assert all(math.isfinite(x) for x in reference["losses"])


def test_same_documents_tokenizer_and_initial_parameters(reference):
    t = Trainer(TEXT)
    assert t.train_docs == reference["docs"]
    assert t.tokenizer.chars == reference["chars"]
    assert t.tokenizer.bos == len(reference["chars"])
    assert list(t.params) == list(reference["init"])  # same names in the same order
    assert t.params == reference["init"]  # bitwise


def test_scalar_engine_is_bitwise_identical(reference):
    t = Trainer(TEXT, engine="scalar")
    losses = [t.step() for _ in range(SCALAR_STEPS)]
    for k, (got, want) in enumerate(zip(losses, reference["losses"])):
        assert got == want, f"step {k}: {got!r} != {want!r}"
    assert t.losses == losses
    assert t.params == reference["params_scalar"]


def test_fast_engine_within_1e9(reference):
    t = Trainer(TEXT, engine="fast")
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
    text = "\n".join(NAMES[:40] + ["josé", "ßtraße", "日本"])
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
