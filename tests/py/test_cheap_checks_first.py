"""Cheap checks before expensive work: a small input that claims a huge
model is refused from its settings and sizes, before anything is drawn, decoded or looped
over. Before: a 170-byte saved run (n_embd 256, 8 layers) drew 6.3 million fresh weights
(3.9 s and 400 MB at the page's start-up) before its size was checked, and a model file
of empty rows cost 1.35 s before its config was."""

import base64
import json
import time
import tracemalloc

import pytest
from helpers import FEW, SMALL

from tinygpt import checkpoint, lessons, model
from tinygpt.errors import TinyGPTError
from tinygpt.session import Session, limits
from tinygpt.trainer import Trainer

SMALL_RUN = {**SMALL, "steps": 30}  # the SMALL model, trained briefly
HUGE = {"n_embd": 256, "n_head": 4, "n_layer": 8, "block_size": 256}


def cost(fn, *args):
    """(seconds, peak bytes of Python allocations, the TinyGPTError's message). Seconds of
    this process's processor time: what the check costs, whatever else the machine runs."""
    tracemalloc.start()
    start = time.process_time()
    try:
        fn(*args)
    except TinyGPTError as e:
        message = str(e)
    else:
        message = None
    finally:
        seconds = time.process_time() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return seconds, peak, message


def tiny_huge_run(packed=False):
    """A saved run of a few hundred bytes whose settings ask for 6.3 million weights."""
    state = {"format": "tinygpt-run", "version": 2 if packed else 1, "settings": HUGE,
             "text": "ab\n", "step": 0, "losses": [], "params": {},
             "optimizer": {"m": [], "v": []}, "rng": [3, [0] * 624 + [624], None]}
    if packed:
        state["floats"] = ""
        del state["params"], state["optimizer"], state["losses"]
    return state


@pytest.mark.parametrize("packed", [False, True], ids=["version 1", "version 2"])
def test_a_tiny_saved_run_claiming_a_huge_model_is_refused_before_any_weight(packed):
    state = tiny_huge_run(packed)
    assert len(json.dumps(state)) < 3_500  # the rng state is most of it
    seconds, peak, message = cost(Session().restore_run, state)
    assert message and "this page runs models of up to" in message, message
    assert seconds < 0.5 and peak < 4 * 2**20, (seconds, peak)


def test_the_lessons_refuse_it_as_fast():
    state_json = json.dumps(tiny_huge_run())
    seconds, peak, _ = cost(lessons.set_run, state_json)
    answer = json.loads(lessons.call("set_run", json.dumps({"state_json": state_json})))
    assert answer["kind"] == "user" and "this page runs models" in answer["error"]
    assert seconds < 0.5 and peak < 4 * 2**20, (seconds, peak)


def test_restoring_a_run_draws_no_weights_it_then_throws_away(monkeypatch):
    trainer = Trainer(FEW, **SMALL_RUN, seed=4)
    for _ in range(5):
        trainer.step()
    state = json.loads(json.dumps(trainer.state()))

    def no_drawing(*args):
        raise AssertionError("fresh weights drawn for a run that has its own")

    monkeypatch.setattr(model, "init_rows", no_drawing)
    restored = Trainer.from_state(state)
    assert restored.params == trainer.params and restored.rng.getstate() == trainer.rng.getstate()
    assert restored.train_docs == trainer.train_docs
    assert [restored.step() for _ in range(3)] == [trainer.step() for _ in range(3)]


# --- a model file the page parsed: the header first ------------------------------------------
def parts(header, rows, numbers=()):
    import struct

    blob = struct.pack(f"<{len(numbers)}d", *numbers)
    return json.dumps(header), rows, base64.b64encode(blob).decode()


def good_header():
    file = Trainer(FEW, **SMALL_RUN).model_file()
    return {k: v for k, v in file.items() if k != "state_dict"}


def test_a_file_of_empty_rows_is_refused_from_its_shapes_not_row_by_row():
    # 9.6 MB of "[]," under one matrix: 3.2 million rows, no numbers.
    rows = {"wte": [0] * 3_200_000}
    seconds, _, message = cost(Session().open_model_file, *parts(good_header(), rows))
    assert message and "wrong shape" in message or "do not match" in message, message
    assert seconds < 0.05, f"{seconds:.3f} s"


def test_a_file_whose_config_is_too_big_is_refused_before_its_rows_and_weights():
    header = {**good_header(), "config": HUGE}
    rows = {"wte": [0] * 3_200_000}
    weights = base64.b64encode(bytes(8 * 1_000_000)).decode()  # 8 MB of zeros
    seconds, peak, message = cost(Session().open_model_file, json.dumps(header), rows, weights)
    assert message and "this page runs models of up to" in message, message
    assert seconds < 0.05 and peak < 2**20, (seconds, peak)


def test_weights_beyond_what_the_shapes_hold_are_refused_before_decoding():
    header = good_header()
    trainer = Trainer(FEW, **SMALL_RUN)
    rows = {name: [len(r) for r in m] for name, m in trainer.params.items()}
    weights = base64.b64encode(bytes(8 * 1_000_000)).decode()
    seconds, peak, message = cost(Session().open_model_file, json.dumps(header), rows, weights)
    assert message and "do not match its shapes" in message, message
    assert peak < 2**20, peak


def test_the_page_limits_say_how_many_rows_and_matrices_a_model_can_have():
    found = limits()
    assert found["max_matrices"] == 3 + 6 * 8
    # max_rows: the most rows any model within max_params has (the worker refuses more).
    best = 0
    for E in range(1, 257):
        for L in range(1, 9):
            for S in (3, 100, 770):  # 2 * vocab + block_size: from the smallest to the largest
                if S * E + 12 * L * E * E <= checkpoint.PAGE_MAX_PARAMS:
                    best = max(best, S + 9 * L * E)
    assert found["max_rows"] >= best and found["max_rows"] < 2 * best
