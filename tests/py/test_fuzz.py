"""Fuzzing every door for outside data (Hypothesis): model files, model links, saved runs,
pasted datasets, settings and link parameters, JSON from outside, the call protocol.

Whatever the input, the answer is a value or a TinyGPTError (a message for people),
never another exception or a hang; a few worst cases also stay under a memory limit.
EXAMPLES says how many inputs each target runs (README, "Reliability").
"""

import base64
import json
import struct
import tracemalloc

import pytest
from helpers import TINY, page_parts
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tinygpt import checkpoint, compact, jsonio
from tinygpt import settings as table
from tinygpt.data import parse_documents
from tinygpt.errors import OVERFLOW, TinyGPTError
from tinygpt.session import Session
from tinygpt.trainer import Trainer

SMALL = {**TINY, "steps": 20}
EXAMPLES = 300  # inputs per target (Hypothesis runs this many unless it runs out of them)
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
MEMORY_LIMIT = 64 * 2**20  # bytes of Python allocations for the worst single input


def value_or_message(fn, *args, **kwargs):
    """fn's answer, or None if it refused with a TinyGPTError; anything else fails."""
    try:
        return fn(*args, **kwargs)
    except TinyGPTError as e:
        message = str(e)
        assert message and "\n" not in message and len(message) < 1000, message
        return None


# Any JSON value, including the awkward ones: huge ints, floats at the edges, deep lists.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=30,
)


@pytest.fixture(scope="module")
def good(trained):
    """The trained model's model file, link bytes and saved runs: what the fuzzing damages
    (made once, not per example)."""
    return {"file": trained.model_file(),
            "link": base64.b64decode(trained.share_model(exact=True)["data"]),
            "run": trained.run_state(), "packed run": trained.run_state(packed=True)}


def replace_at(value, path, new):
    """A copy of `value` with the element at `path` (keys/indices, wrapped) replaced."""
    value = json.loads(json.dumps(value))
    target = value
    for i, key in enumerate(path):
        if isinstance(target, dict) and target:
            key = sorted(target)[key % len(target)]
        elif isinstance(target, list) and target:
            key = key % len(target)
        else:
            return value
        if i == len(path) - 1 or not isinstance(target[key], (dict, list)):
            target[key] = new
            return value
        target = target[key]
    return value


paths = st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=5)


# --- model files ---------------------------------------------------------------------------
@FUZZ
@given(data=json_values)
def test_any_json_as_a_model_file(data):
    value_or_message(checkpoint.load_model_file, data)
    value_or_message(checkpoint.loads, json.dumps(data))


@FUZZ
@given(path=paths, new=json_values)
@example(path=[184, 0, 1, 0], new=-1.16376105327085e308)  # a weight: sampling overflows
def test_a_model_file_with_any_field_changed(good, path, new):
    file = replace_at(good["file"], path, new)
    model = value_or_message(checkpoint.load_model_file, file)
    if model is not None:  # what loads, works, or says its arithmetic overflows
        try:
            model.sample(2, 0.5, "", 1)
        except TinyGPTError as e:
            # Huge finite weights load (test_session_share: a sum that overflows must not
            # refuse them) and their use says so; found by this test: a weight of -1.16e308.
            assert str(e) == OVERFLOW, e


@FUZZ
@given(text=st.text(alphabet='[]{}",:0123456789.eE-tfnul\\ ', max_size=400))
def test_any_text_as_a_model_file(text):
    value_or_message(checkpoint.loads, text)


@FUZZ
@given(path=paths, new=json_values)
def test_the_pages_model_file_path_with_any_field_changed(good, path, new):
    file = replace_at(good["file"], path, new)
    value_or_message(Session().open_model_file, **page_parts(file))


@FUZZ
@given(header=st.text(max_size=200), rows=json_values, weights=st.text(max_size=200))
def test_the_pages_model_file_path_with_any_arguments(header, rows, weights):
    value_or_message(Session().open_model_file, header, rows, weights)


# --- model links ------------------------------------------------------------------------------
@FUZZ
@given(data=st.binary(max_size=300))
def test_any_bytes_as_a_model_link(data):
    value_or_message(compact.unpack, data, True)
    value_or_message(Session().load_shared_model, base64.b64encode(data).decode())


@FUZZ
@given(at=st.integers(min_value=0), byte=st.integers(min_value=0, max_value=255),
       cut=st.integers(min_value=0))
def test_a_model_link_with_a_byte_changed_or_cut(good, at, byte, cut):
    link = good["link"]
    changed = bytearray(link)
    changed[at % len(link)] = byte
    value_or_message(compact.unpack, bytes(changed), True)
    value_or_message(compact.unpack, link[: cut % len(link)], True)


@FUZZ
@given(header=json_values, bits=st.sampled_from([16, 32, 64, 8, 0]))
def test_a_model_link_with_any_header(header, bits):
    text = json.dumps(header).encode()
    data = struct.pack("<4sBBI", b"TGPT", 1, bits, len(text)) + text + bytes(64)
    value_or_message(compact.unpack, data, True)


@FUZZ
@given(text=st.text(max_size=300))
def test_any_text_as_a_link_s_base64(text):
    value_or_message(Session().load_shared_model, text)


# --- saved runs ---------------------------------------------------------------------------------
@FUZZ
@given(path=paths, new=json_values, packed=st.booleans())
def test_a_saved_run_with_any_field_changed(good, path, new, packed):
    state = replace_at(good["packed run" if packed else "run"], path, new)
    session = Session()
    if value_or_message(session.restore_run, state) is not None:
        session.train_for(0, max_steps=1)


@FUZZ
@given(data=json_values)
def test_any_json_as_a_saved_run(data):
    value_or_message(Session().restore_run, data if isinstance(data, dict) else {"x": data})
    value_or_message(Trainer.from_state, data)


# --- pasted datasets ---------------------------------------------------------------------------
@FUZZ
@given(text=st.text(max_size=500))
def test_any_text_as_a_dataset(text):
    docs = value_or_message(parse_documents, text)
    if docs is not None:
        assert all(doc == doc.strip() and doc and "\n" not in doc for doc in docs)
        value_or_message(Session().new_run, text, {**SMALL, "steps": 2})


# --- settings and link parameters --------------------------------------------------------------
@FUZZ
@given(values=st.dictionaries(st.sampled_from([s.name for s in table.RUN] + ["bogus"]),
                              json_values, max_size=6))
def test_any_run_settings(values):
    problems = table.validate(values)
    assert isinstance(problems, dict) and all(isinstance(m, str) and m for m in problems.values())
    settings_ = value_or_message(table.check_run_settings, values)
    assert (settings_ is None) == bool(problems) or "bogus" in values


@FUZZ
@given(values=st.dictionaries(st.sampled_from(["n", "temperature", "prefix", "sample_seed"]),
                              json_values, max_size=4))
def test_any_generation_settings(values):
    problems = table.validate_generate(values)
    assert all(isinstance(m, str) and m for m in problems.values())


@FUZZ
@given(pairs=st.lists(st.tuples(st.sampled_from(["steps", "lr", "val", "batch", "recipe",
                                                 "dataset", "engine", "n_embd", "x"]),
                                st.text(max_size=50)), max_size=12))
def test_any_link_query(pairs):
    found = table.from_query([list(p) for p in pairs])
    assert set(found) == {"recipe", "settings", "dataset", "problems"}
    assert found["recipe"] in table.RECIPES
    if not found["problems"]:  # a clean link gives settings a run accepts, and back
        settings_ = table.check_run_settings(found["settings"])
        back = table.from_query([list(p) for p in table.to_query(settings_, found["recipe"])])
        assert back["settings"] == settings_


# --- JSON from outside, and the call protocol ----------------------------------------------------
@FUZZ
@given(text=st.text(alphabet='[]{}"\\,:1 ab', max_size=2000))
def test_any_text_as_json(text):
    value_or_message(jsonio.loads, text)


@FUZZ
@given(name=st.text(max_size=20)
       | st.sampled_from(["info", "validate", "begin_run", "start_generate"]),
       args=st.text(max_size=200) | json_values.map(json.dumps))
def test_the_call_protocol_always_answers_json(name, args):
    from tinygpt.session import api

    answer = json.loads(jsonio.call(api(Session()), name, args))
    assert set(answer) in ({"ok"}, {"error", "kind"}, {"error", "kind", "traceback"})


# --- memory ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ["deep json", "huge link header", "long dataset", "huge model"])
def test_worst_inputs_stay_under_the_memory_limit(case):
    inputs = {
        "deep json": lambda: jsonio.loads("[" * 1_000_000 + "]" * 1_000_000),
        "huge link header": lambda: compact.unpack(
            struct.pack("<4sBBI", b"TGPT", 1, 16, 2**32 - 1) + b"{" * 1000, True),
        "long dataset": lambda: parse_documents(("x" * 999 + "\n") * 1000),
        "huge model": lambda: Session().load_shared_model(base64.b64encode(
            struct.pack("<4sBBI", b"TGPT", 1, 16, 90) + json.dumps(
                {"config": {"n_embd": 256, "n_head": 4, "n_layer": 8, "block_size": 256},
                 "chars": ["a"]}).encode().ljust(90)).decode()),
    }
    tracemalloc.start()
    try:
        value_or_message(inputs[case])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_LIMIT, f"{case}: {peak / 2**20:.1f} MiB"
