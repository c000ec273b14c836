"""Numbers no real run has: finite weights of 1e300 from a link made
the "Inside the model" panel report bugs (a ZeroDivisionError, a float JSON cannot
carry), and a restored run with a negative Adam v was accepted, then failed with a bug.
Every door of the page answers such input with a message ("kind": "user"), never a bug,
and whatever it answers is JSON the page can read; a saved run that no real run could
have written is refused when it is restored."""

import base64
import json
import math
import struct

import pytest
from helpers import FEW
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygpt import jsonio
from tinygpt.errors import TinyGPTError
from tinygpt.model import Config, param_shapes
from tinygpt.session import Session, api
from tinygpt.trainer import Trainer

CHARS = sorted(set(FEW) - {"\n"})
CONFIG = {"n_embd": 8, "n_head": 2, "n_layer": 1, "block_size": 8}


def link(weight, config=CONFIG, chars=CHARS):
    """A model link's base64 whose weights are all `weight` but for a spread that keeps
    the rows apart (a model of all-equal rows would be degenerate for other reasons)."""
    header = json.dumps({"config": config, "chars": chars, "meta": {}}).encode()
    shapes = param_shapes(Config(**config), len(chars) + 1)
    count = sum(r * c for _, r, c in shapes)
    values = [weight * (1 + (i % 7) / 7) * (-1) ** i for i in range(count)]
    data = struct.pack("<4sBBI", b"TGPT", 1, 64, len(header)) + header + struct.pack(
        f"<{count}d", *values)
    return base64.b64encode(data).decode()


def call(session, name, **args):
    """The page's call, as the bridge makes it: the answer must be JSON, and never a bug."""
    answer = json.loads(jsonio.call(api(session), name, json.dumps(args)))
    assert answer.get("kind") != "bug", answer.get("traceback", answer)
    if "error" in answer:
        assert answer["kind"] == "user" and "\n" not in answer["error"], answer
    return answer


def drive(session, start, step, **args):
    """Start a job and run it to its end (or its error)."""
    answer = call(session, start, **args)
    while "ok" in answer and not answer["ok"].get("done", False) or start == "start_generate":
        start = None
        answer = call(session, step, budget_ms=1000)
        if "error" in answer or answer["ok"]["done"]:
            break
    return answer


@pytest.mark.parametrize("weight", [9e307, 1e300, 1e200, 1e154, 1e-160, 1e-300, 5e-324])
def test_every_door_answers_a_model_of_huge_or_tiny_weights_with_json_or_a_message(weight):
    session = Session()
    assert "ok" in call(session, "load_shared_model", data=link(weight))
    call(session, "set_insides", options={"probe_name": "emma", "probe_prefix": "em"})
    call(session, "set_insides", options={"probe_name": "", "letter": "a"})
    call(session, "letters_start", temperature=0.5, seed=1)
    call(session, "letters_next", temperature=0.5)
    drive(session, "start_generate", "work_for", n=3, temperature=0.5, prefix="a", seed=2)
    drive(session, "start_share_model", "job_for", exact=False)
    drive(session, "start_export_project", "job_for")
    call(session, "evaluate_text", text="emma\nava\n")
    call(session, "share_model")
    call(session, "model_file")


def test_weights_whose_sums_overflow_get_a_message_that_says_so():
    session = Session()
    session.load_shared_model(link(9e307))  # finite, but a weight plus another is not
    for name, args in (("set_insides", {"options": {"probe_name": "emma"}}),
                       ("letters_start", {"temperature": 0.5}),
                       ("evaluate_text", {"text": "emma\n"})):
        answer = call(session, name, **args)
        assert "error" in answer and "overflows" in answer["error"], (name, answer)
    # What needs no arithmetic still works: the file, the export, an exact link.
    assert "ok" in call(session, "model_file") and "ok" in call(session, "export_project")


def test_weights_far_below_one_still_show_their_picture():
    # Tiny weights are a real picture, only scaled: the panel draws it (the points scaled
    # alike), where the sums of squares used to underflow into a division by zero.
    small, normal = Session(), Session()
    small.load_shared_model(link(1e-160))
    normal.load_shared_model(link(1.0))
    a, b = small.insides(probe_name=""), normal.insides(probe_name="")
    assert a["embeddings"]["explained"] == pytest.approx(b["embeddings"]["explained"], rel=1e-9)
    for p, q in zip(a["embeddings"]["points"], b["embeddings"]["points"]):
        assert p == pytest.approx([x * 1e-160 for x in q], rel=1e-6, abs=1e-300)


# --- a restored run with values no real run has -----------------------------------------------
@pytest.fixture(scope="module")
def saved():
    trainer = Trainer(FEW, **CONFIG, steps=50, seed=3)
    for _ in range(5):
        trainer.step()
    session = Session()
    session.restore_run(json.loads(json.dumps({**trainer.state(), "val_points": []})))
    return session.run_state()


def damaged(state, change):
    state = json.loads(json.dumps(state))
    change(state)
    return state


@pytest.mark.parametrize("change, words", [
    (lambda s: s["optimizer"]["v"].__setitem__(3, -1e-3), "negative"),
    (lambda s: s["losses"].__setitem__(2, -0.5), "loss history"),
    (lambda s: s.update(val_points=[[3, 2.5], [2, 2.4]]), "validation history"),
    (lambda s: s.update(val_points=[[9, 2.5]]), "validation history"),
    (lambda s: s.update(val_points=[[2, -1.0]]), "validation history"),
    (lambda s: s.update(val_points=[[2.5, 1.0]]), "validation history"),
], ids=["negative v", "negative loss", "points out of order", "point after the step",
        "negative validation loss", "half a step"])
def test_a_saved_run_no_real_run_could_write_is_refused_on_restore(saved, change, words):
    answer = call(Session(), "restore_run", state=damaged(saved, change))
    assert "error" in answer and words in answer["error"], answer


def test_an_update_that_overflows_is_a_diverged_run_not_a_bug(saved, monkeypatch):
    # Gradients finite but beyond what a square can hold: the scalar engine's update
    # (microgpt.py's g ** 2) raised OverflowError, which reached the page as a bug.
    for engine in ("fast", "scalar"):
        trainer = Trainer.from_state(json.loads(json.dumps(saved)))
        trainer.engine = engine
        loss, grads = trainer.gradients()
        huge = {name: [[1e200] * len(row) for row in matrix] for name, matrix in grads.items()}
        try:
            trainer.apply(loss, huge)
        except TinyGPTError as e:
            assert "diverged" in str(e)
        else:  # the fast engine's rearranged update takes the square as g * g, inf and
            assert engine == "fast"  # no error: the next step trains or says it diverged
            try:
                assert math.isfinite(trainer.step())
            except TinyGPTError as e:
                assert "diverged" in str(e)


# --- fuzzed: any finite weights -----------------------------------------------------------------
finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(weights=st.lists(finite, min_size=1, max_size=12), scale=st.sampled_from(
    [1.0, 1e-300, 1e-150, 1e100, 1e150, 1e300]))
def test_any_finite_weights_give_json_or_a_message(weights, scale):
    config = {"n_embd": 4, "n_head": 2, "n_layer": 1, "block_size": 4}
    chars = ["a", "b", "c"]
    shapes = param_shapes(Config(**config), len(chars) + 1)
    count = sum(r * c for _, r, c in shapes)
    values = [weights[i % len(weights)] * scale for i in range(count)]
    values = [v if abs(v) < 1.7e308 else 1e308 for v in values]
    header = json.dumps({"config": config, "chars": chars, "meta": {}}).encode()
    data = struct.pack("<4sBBI", b"TGPT", 1, 64, len(header)) + header + struct.pack(
        f"<{count}d", *values)
    session = Session()
    assert "ok" in call(session, "load_shared_model", data=base64.b64encode(data).decode())
    call(session, "set_insides", options={"probe_name": "abc", "probe_prefix": "a"})
    call(session, "letters_start", temperature=0.5, seed=1)
    drive(session, "start_generate", "work_for", n=2, temperature=1.0, prefix="", seed=1)
    call(session, "evaluate_text", text="abc\nba\n")
