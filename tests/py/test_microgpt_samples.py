"""The page's "Generate as microgpt.py does": Session.start_generate(run_rng=True) draws
with the run's own random generator where training left it, as microgpt.py does after its
last step, and refuses (with a message saying why) where that means nothing. And the CLI's
`train --samples N`, fuzzed (test_cli.py checks it by example).

The names are checked against the independent transcription of microgpt.py
(microgpt_reference.py): its own seeded generator and its Value forward pass.
"""

import io
import json
import random
from contextlib import redirect_stderr, redirect_stdout

import pytest
from helpers import SMALL, SMALL_ARGS, TEXT, one_line
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from microgpt_reference import MicroGPT

from tinygpt import __main__ as cli
from tinygpt import checkpoint, jsonio
from tinygpt.errors import TinyGPTError
from tinygpt.session import Session, api
from tinygpt.settings import MICROGPT_SAMPLES

STEPS = 30
MICROGPT = {"n": MICROGPT_SAMPLES["n"], "temperature": MICROGPT_SAMPLES["temperature"]}


def finished_session(steps=STEPS):
    session = Session()
    session.new_run(TEXT, {**SMALL, "steps": steps})
    while not session.train_for(60_000)["done"]:
        pass
    return session


def draw(session, **options):
    """The names of one generation job, advanced as the page advances it (short pieces)."""
    job = session.start_generate(**options)["job"]
    while True:
        answer = session.work_for(5)
        if answer["done"]:
            assert answer["job"] == job
            return answer["names"]


@pytest.fixture(scope="module")
def finished():
    return finished_session()


def test_the_names_are_microgpts_draws(finished):
    names = draw(finished, **MICROGPT, run_rng=True)
    ref = MicroGPT(TEXT, **SMALL, steps=STEPS)  # seeded, shuffled, weights drawn: no training
    ref.load_floats(finished.trainer.params)
    assert names == ref.sample(MICROGPT["n"], MICROGPT["temperature"])
    assert len(names) == 20


def test_every_draw_gives_the_same_names_and_leaves_the_run_as_it_was(finished):
    before = finished.trainer.rng.getstate()
    first = draw(finished, **MICROGPT, run_rng=True)
    assert draw(finished, **MICROGPT, run_rng=True) == first
    assert finished.trainer.rng.getstate() == before  # a copy was drawn from
    # ... and that is not what a fresh generator with the run's seed draws
    assert draw(finished, **MICROGPT, seed=finished.trainer.settings["seed"]) != first


def test_a_restored_run_still_owns_its_generator(finished):
    state = json.loads(json.dumps(finished.run_state(packed=True)))  # as the page saves it
    restored = Session()
    restored.restore_run(state)
    assert draw(restored, **MICROGPT, run_rng=True) == draw(finished, **MICROGPT, run_rng=True)


def test_the_page_call_reaches_it_through_json(finished):
    """The page calls it through jsonio.call, as web.call does, with the run_rng flag."""
    args = json.dumps({**MICROGPT, "prefix": "", "seed": None, "run_rng": True})
    answer = json.loads(jsonio.call(api(finished), "start_generate", args))
    assert set(answer["ok"]) == {"job"}
    refused = json.loads(jsonio.call(api(Session()), "start_generate", args))
    assert refused["kind"] == "user" and one_line(refused["error"])


def refusal(session, **options):
    with pytest.raises(TinyGPTError) as caught:
        session.start_generate(**{**MICROGPT, **options, "run_rng": True})
    assert one_line(str(caught.value))
    return str(caught.value)


def test_refused_before_the_run_is_done():
    session = Session()
    session.new_run(TEXT, {**SMALL, "steps": STEPS})
    session.train_for(60_000, max_steps=3)
    message = refusal(session)
    assert "last step" in message and f"step 3 of {STEPS}" in message
    assert session.work._job is None  # nothing started


def test_refused_for_a_model_opened_from_a_file(finished):
    opened = Session()
    opened.load_model(json.dumps(checkpoint.model_file(finished.model, {})))
    assert "opened" in refusal(opened)
    assert opened.model.sample(3, 0.5, "", 1)  # the model itself still generates


def test_refused_with_a_seed_and_without_a_model(finished):
    assert "no seed" in refusal(finished, seed=7)
    with pytest.raises(TinyGPTError, match="no model"):
        Session().start_generate(**MICROGPT, run_rng=True)


def test_the_other_generation_settings_still_apply(finished):
    names = draw(finished, n=3, temperature=0.8, prefix="a", run_rng=True)
    rng = random.Random()
    rng.setstate(finished.trainer.rng.getstate())
    assert names == finished.model.sample(3, 0.8, "a", rng=rng)
    assert all(name.startswith("a") for name in names)
    with pytest.raises(TinyGPTError, match="temperature"):
        finished.start_generate(n=3, temperature=0, run_rng=True)


# --- the CLI's --samples N, fuzzed: a count of names, or one line on stderr ----------------


@pytest.fixture(scope="module")
def names_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("samples") / "names.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(value=st.one_of(st.integers(-5, 110).map(str), st.integers(-(10**30), 10**30).map(str),
                         st.text(max_size=12)))
def test_any_samples_value_prints_that_many_names_or_one_line(names_file, value):
    out, err = io.StringIO(), io.StringIO()
    args = ["train", "--data", str(names_file), "--steps", "1", *SMALL_ARGS, "--samples", value]
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(args)
    lines = out.getvalue().splitlines()
    samples = [line for line in lines if line.startswith("sample ")]
    try:
        n = int(value)  # what argparse's type=int makes of it
    except ValueError:
        n = None
    if code == 0:
        assert err.getvalue() == "" and 0 <= n <= cli.MAX_SAMPLES
        assert len(samples) == n and (cli.SAMPLES_HEADER in lines) == (n > 0)
    else:
        assert code == 2 and lines == []  # refused before training
        assert one_line(err.getvalue().rstrip("\n")) and "--samples" in err.getvalue()
        # a plain count in range is never refused
        assert not (value.isascii() and value.isdigit() and int(value) <= cli.MAX_SAMPLES)
