"""A training step's work is bounded before a run starts.

Only the parameter count was checked: a run link with block_size 256, batch 8 and lines
of 300 letters made one step (one of the page's tasks) of 5.5 s, 99.6 s at n_embd 96.
work.step_cost estimates a step from what it costs (its positions, batch, layers, width,
vocabulary, parameters: fitted to steps timed in Pyodide, see tinygpt/work.py). A batch
is trained a chunk of names per task (test_batch_pieces.py), a name is not split, so the
page refuses settings whose longest name's step costs more than work.MAX_STEP_COST,
saying what to lower. Everything the page offers (the recipes on the presets, the
lessons' links) stays within it."""

import html
import json
import math
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygpt import fast, work
from tinygpt import settings as table
from tinygpt.errors import TinyGPTError
from tinygpt.model import Config
from tinygpt.session import Session
from tinygpt.trainer import Trainer

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "public" / "data"
LONG_LINES = "\n".join("abcdefghij"[i % 10] * 300 for i in range(20)) + "\n"
ATTACK = {"block_size": 256, "batch": 8}  # with 300-letter lines: 5.5 s a step before


def message(fn, *args, **kwargs):
    with pytest.raises(TinyGPTError) as error:
        fn(*args, **kwargs)
    text = str(error.value)
    assert text and "\n" not in text and len(text) < 1000, text
    return text


@pytest.mark.parametrize("extra", [{}, {"n_embd": 96, "n_head": 4}], ids=["n_embd 16", "n_embd 96"])
def test_the_attack_link_is_refused_before_the_run_starts(extra):
    session = Session()
    text = message(session.begin_run, LONG_LINES, {**ATTACK, **extra})
    assert "would freeze this page" in text and "block_size" in text
    assert session._pending_run is None  # nothing was started
    with pytest.raises(TinyGPTError, match="Start a run first"):
        session.build_run(20)


def test_the_message_says_what_fits_and_it_does():
    text = message(Session().begin_run, LONG_LINES, ATTACK)
    block = int(re.search(r"set block_size to (\d+) or less", text).group(1))
    Session().begin_run(LONG_LINES, {**ATTACK, "block_size": block})  # fits
    message(Session().begin_run, LONG_LINES, {**ATTACK, "block_size": block + 1})


def test_short_lines_make_short_steps_whatever_the_block():
    # positions = min(block_size, longest line + 1): a block of 256 costs nothing extra on
    # names of at most 11 letters.
    names = (DATA / "first_names.txt").read_text()
    Session().begin_run(names, {"block_size": 256, "batch": 8})


def test_a_saved_run_with_such_settings_is_refused_on_restore():
    state = Trainer(LONG_LINES, **ATTACK, steps=10).state()
    text = message(Session().restore_run, state)
    assert text.startswith("The saved run's settings make each training step")


def test_switching_to_the_scalar_engine_is_refused_where_its_steps_would_freeze():
    # The city names, up to 16 positions over 119 tokens: one name on the scalar engine
    # costs 85 default steps (the fast engine: 3).
    session = Session()
    session.new_run(preset("cities"), {"batch": 8, "steps": 10})
    text = message(session.set_engine, "scalar")
    assert "on the scalar engine" in text and "use the fast engine" in text
    assert session.trainer.engine == "fast"
    session.set_engine("fast")


# --- everything the page offers fits ------------------------------------------------------------
def lesson_links():
    """The playground links of lessons.html: (query pairs, dataset)."""
    page = (ROOT / "lessons.html").read_text()
    for href in re.findall(r'href="\./index\.html\?([^"]+)"', page):
        pairs = parse_qsl(urlsplit("?" + html.unescape(href)).query)
        yield pairs


def preset(name):
    return (DATA / f"{name}.txt").read_text()


PRESETS = [p["id"] for p in json.loads((DATA / "datasets.json").read_text())]


@pytest.mark.parametrize("recipe", list(table.RECIPES))
@pytest.mark.parametrize("dataset", PRESETS)
def test_every_recipe_trains_on_every_preset(recipe, dataset):
    Session().begin_run(preset(dataset), table.recipe_settings(recipe))


@pytest.mark.parametrize("pairs", list(lesson_links()), ids=lambda p: "&".join(map("=".join, p)))
def test_every_link_of_the_lessons_trains(pairs):
    found = table.from_query([list(p) for p in pairs])
    assert not found["problems"]
    dataset = found["dataset"] or "first_names"
    Session().begin_run(preset(dataset), found["settings"])


# --- the cost model: its counts checked against the engine's own ---------------------------------
def counted_multiply_adds(monkeypatch, config, vocab, batch, positions):
    """(short, long): the multiply-adds a fast-engine step makes in rowdots, counted as
    it runs, by the length of the rows (kernels.MAX_UNROLL and less: short)."""
    counts = {"short": 0, "long": 0}
    rowdots = fast.rowdots

    def counting(rows, v):
        rows = list(rows)
        counts["short" if len(v) <= 64 else "long"] += len(rows) * len(v)
        return rowdots(rows, v)

    monkeypatch.setattr(fast, "rowdots", counting)
    letters = "abcdefghijklmnopqrstuvwxyz"[: vocab - 1]
    line = (letters * 300)[: positions - 1]
    text = "\n".join([line] * batch + [letters]) + "\n"
    trainer = Trainer(text, n_embd=config.n_embd, n_head=config.n_head, n_layer=config.n_layer,
                      block_size=config.block_size, batch=batch, steps=5)
    trainer.train_docs = [line] * batch
    trainer.piece_bound = math.inf  # the features describe a step computed whole
    counts["short"] = counts["long"] = 0
    trainer.gradients()
    return counts["short"], counts["long"]


@pytest.mark.parametrize("shape", [
    (16, 4, 1, 16, 27, 1, 7), (16, 4, 1, 16, 27, 8, 16), (32, 4, 2, 32, 20, 2, 30),
    (8, 2, 1, 128, 11, 1, 100), (96, 4, 1, 8, 27, 2, 8), (12, 3, 2, 80, 27, 3, 70),
], ids=str)
def test_the_features_count_the_multiply_adds_the_engine_makes(monkeypatch, shape):
    E, H, L, block, vocab, batch, positions = shape
    config = Config(E, H, L, block)
    short, long = counted_multiply_adds(monkeypatch, config, vocab, batch, positions)
    found = work.features(config, vocab, batch, positions)
    # The model leaves out the few dot products rowdots does not make (rmsnorm's, the
    # attention backward's means), so it may count a little less, never more.
    assert found["short"] + found["long"] <= short + long <= 1.06 * (found["short"]
                                                                    + found["long"])
    assert abs(found["long"] - long) <= 0.06 * (short + long)


def test_the_cost_grows_with_every_dimension():
    base = (Config(16, 4, 1, 16), 27, 1, 7)  # the default run on 6-letter names
    cost = work.step_cost(*base)
    assert work.step_cost(Config(32, 4, 1, 16), 27, 1, 7) > cost
    assert work.step_cost(Config(16, 4, 2, 16), 27, 1, 7) > cost
    assert work.step_cost(Config(16, 4, 1, 16), 60, 1, 7) > cost
    assert work.step_cost(Config(16, 4, 1, 16), 27, 2, 7) > cost
    assert work.step_cost(Config(16, 4, 1, 16), 27, 1, 16) > cost
    assert work.step_cost(*base, engine="scalar") > 10 * cost
    assert 0.8 < cost < 1.25  # the unit: about the default run's step


# --- fuzzed ---------------------------------------------------------------------------------------
run_settings = st.fixed_dictionaries({}, optional={
    "n_embd": st.sampled_from([1, 4, 8, 16, 32, 64, 96, 128, 256]),
    "n_layer": st.integers(1, 8), "block_size": st.integers(1, 256),
    "batch": st.integers(1, 8), "engine": st.sampled_from(["fast", "scalar"]),
}).map(lambda s: {**s, "n_head": 1})
lines = st.lists(st.integers(1, 400), min_size=1, max_size=6).map(
    lambda lengths: "\n".join(("abc" * 200)[:n] for n in lengths) + "\n")


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(values=run_settings, text=lines)
def test_any_settings_and_lines_fit_or_get_a_message_that_says_how(values, text):
    session = Session()
    try:
        session.begin_run(text, values)
    except TinyGPTError as e:
        message_ = str(e)
        assert "\n" not in message_ and len(message_) < 1000
        match = re.search(r"set block_size to (\d+) or less", message_)
        if match:  # the advice is right: that block fits
            Session().begin_run(text, {**values, "block_size": int(match.group(1))})
        return
    pending = session._pending_run[0]
    positions = work.longest_positions(pending.docs, pending.config.block_size)
    engine, vocab = pending.settings["engine"], pending.tokenizer.vocab_size
    cost = work.step_cost(pending.config, vocab, 1, positions, engine)
    assert cost <= work.MAX_STEP_COST[engine]
    # and every chunk of the costliest batch (every name as long as the longest) fits it
    lengths = [positions] * pending.settings["batch"]
    for a, b in work.chunk_ranges(pending.config, vocab, lengths, engine):
        assert b - a == 1 or work.batch_cost(pending.config, vocab, lengths[a:b],
                                             engine) <= work.MAX_PIECE_COST


def test_the_parameter_count_is_the_models():
    from tinygpt.model import blank_params, count_params

    for shape in [(16, 4, 1, 16, 27), (8, 2, 3, 100, 119), (96, 4, 1, 8, 257)]:
        config = Config(*shape[:4])
        found = work.features(config, shape[4], 1, 5)["params"]
        assert found == count_params(blank_params(config, shape[4]))


def test_the_advice_is_the_largest_that_fits():
    config = Config(16, 4, 1, 256)
    docs = ["a" * 300]
    text = message(work.check_step, config, 27, docs, "fast")
    block = int(re.search(r"set block_size to (\d+) or less", text).group(1))

    def cost(b):
        return work.step_cost(Config(16, 4, 1, b), 27, 1, b)

    assert cost(block) <= work.MAX_STEP_COST["fast"] < cost(block + 1)


def test_the_batch_does_not_count_only_the_longest_name_does():
    # A batch is split into chunks: 8 names per step fit wherever 1 does.
    config = Config(16, 4, 1, 64)
    fits = work.check_step(config, 27, ["a" * 40], "fast")
    assert fits == work.step_cost(config, 27, 1, 41) <= work.MAX_STEP_COST["fast"]
    assert work.step_cost(config, 27, 8, 41) > work.MAX_STEP_COST["fast"]
    Session().begin_run("\n".join(["a" * 40, "b" * 3]) + "\n", {"block_size": 64, "batch": 8})
