"""tinygpt.lessons: running cells and the numbers behind the lessons' figures."""

import io
import json
import math
import random
import re
from contextlib import redirect_stderr, redirect_stdout
from urllib.parse import parse_qsl

import pytest
from helpers import FEW, ROOT

from tinygpt import lessons
from tinygpt.settings import from_query, validate
from tinygpt.trainer import Trainer

NAMES = FEW.strip()  # the lessons' "names" dataset here: ten names


def call(request, **args):
    return json.loads(lessons.call(request, json.dumps(args)))


def ok(request, **args):
    answer = call(request, **args)
    assert "ok" in answer, answer
    return answer["ok"]


@pytest.fixture(autouse=True)
def names_dataset():
    ok("use_dataset", id="names", text=NAMES)
    yield
    lessons._cache.clear()


def run(code, namespace=None):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        result = lessons.run_cell(code, {} if namespace is None else namespace)
    return result, out.getvalue(), err.getvalue()


# --- cells ------------------------------------------------------------------------------


def test_cells_share_a_namespace_and_print():
    namespace = {}
    assert run("x = 6 * 7", namespace)[0]
    assert run("print(x + 1)", namespace)[1] == "43\n"


def test_error_traceback_starts_at_the_cell_and_quotes_its_line():
    result, out, err = run("print('before')\ny = [1, 2][5]")
    assert result is False and out == "before\n"
    assert err.startswith("Traceback (most recent call last):\n")
    assert 'File "<cell>", line 2' in err and "y = [1, 2][5]" in err
    assert "run_cell" not in err and err.strip().endswith("IndexError: list index out of range")


def test_syntax_error_is_reported_without_internal_frames():
    result, _, err = run("def f(:\n    pass")
    assert result is False and "SyntaxError" in err and "lessons.py" not in err


# --- figures ------------------------------------------------------------------------------


def test_unknown_request_and_bad_input_are_messages():
    assert "error" in call("no_such_thing")
    assert "error" in call("tokens", dataset="missing", text="a")
    assert "under" in call("tokens", dataset="names", text="x" * 500)["error"]


def test_tokens_ids_unknown_characters_and_vocabulary():
    answer = ok("tokens", dataset="names", text="mia!Z")
    chars = sorted(set(NAMES.replace("\n", "")))
    assert [p["id"] for p in answer["pieces"]] == [
        chars.index("m"),
        chars.index("i"),
        chars.index("a"),
        None,
        None,
    ]
    assert answer["unknown"] == ["!", "Z"]
    bos = len(chars)
    assert answer["encoded"] == [bos, chars.index("m"), chars.index("i"), chars.index("a"), bos]
    assert [v["ch"] for v in answer["vocab"]] == chars
    assert {v["ch"]: v["count"] for v in answer["vocab"]}["a"] == NAMES.count("a")


def test_autograd_graph_and_finite_differences_match_calculus():
    answer = ok("autograd", code="a = Value(3.0)\nb = Value(-2.0)\nout = a * b + a ** 2")
    leaves = {n["name"]: n for n in answer["nodes"] if n["op"] == "leaf"}
    assert answer["out"] == 3 * -2 + 9
    assert leaves["a"]["grad"] == pytest.approx(-2 + 2 * 3)  # d/da (ab + a^2) = b + 2a
    assert leaves["b"]["grad"] == pytest.approx(3)
    checks = {c["name"]: c for c in answer["checks"]}
    assert checks["a"]["numeric"] == pytest.approx(4, abs=1e-6) and checks["a"]["ok"]
    assert checks["b"]["ok"]
    ops = sorted(n["op"] for n in answer["nodes"])
    assert ops == sorted(["leaf", "leaf", "*", "**2", "+"])
    assert all(child < node["id"] for node in answer["nodes"] for child in node["children"])


def test_autograd_names_unnamed_leaves_and_constants():
    answer = ok("autograd", code="out = Value(2.0) / Value(4.0) * 3")
    assert answer["out"] == 1.5
    names = sorted(n["name"] for n in answer["nodes"] if n["op"] == "leaf")
    assert names == ["", "leaf 1", "leaf 2"]  # the 3 is a constant, not one of the reader's
    assert "**-1" in [n["op"] for n in answer["nodes"]]  # division is a * b ** -1
    assert [c["name"] for c in answer["checks"]] == ["leaf 1", "leaf 2"]
    assert answer["checks"][1]["grad"] == pytest.approx(-2 / 16 * 3)  # d/db (a/b*3) = -3a/b^2


def ops_of(code):
    return [n["op"] for n in ok("autograd", code=code)["nodes"]]


@pytest.mark.parametrize(
    ("code", "op"),
    [
        # Guessing from the numbers got these wrong: 1 * 1 has local gradients (1, 1)
        # like a sum, and a ** 1 equals max(0, a) with local gradient 1 like relu.
        ("out = Value(1.0) * Value(1.0)", "*"),
        ("out = Value(1.0) + Value(1.0)", "+"),
        ("a = Value(3.0)\nout = a ** 1", "**1"),
        ("a = Value(3.0)\nout = a ** 2", "**2"),
        ("a = Value(4.0)\nout = a ** -0.5", "**-0.5"),
        ("a = Value(3.0)\nout = a.relu()", "relu"),
        ("a = Value(0.0)\nout = a.exp()", "exp"),  # exp(0) = 1 = a + 1: not a guess either
        ("a = Value(1.0)\nout = a.log()", "log"),
    ],
)
def test_autograd_draws_the_operation_each_node_records(code, op):
    ops = ops_of(code)
    assert ops[-1] == op  # `out`, last in topological order
    assert ops.count("leaf") == len(ops) - 1


def test_autograd_subtraction_and_division_are_built_from_the_basic_operations():
    assert sorted(ops_of("a = Value(2.0)\nb = Value(3.0)\nout = a - b")) == sorted(
        ["leaf", "leaf", "leaf", "*", "+"]  # a + b * -1; the -1 is a constant leaf
    )
    assert sorted(ops_of("a = Value(2.0)\nb = Value(3.0)\nout = a / b")) == sorted(
        ["leaf", "leaf", "**-1", "*"]
    )


def test_autograd_explains_mistakes():
    assert "out" in call("autograd", code="a = Value(1.0)")["error"]
    assert "NameError" in call("autograd", code="out = q * 2")["error"]
    big = "a = Value(1.0)\nout = a\nfor _ in range(40):\n    out = out * a + 1"
    assert "nodes" in call("autograd", code=big)["error"]


def test_attention_is_causal_sums_to_one_and_depends_on_the_name():
    first = ok("attention", dataset="names", name="ava")
    assert first["tokens"] == ["BOS", "a", "v", "a"] and "untrained" in first["source"]
    heads = first["layers"][0]
    assert len(heads) == 4
    for head in heads:
        for q, row in enumerate(head):
            assert math.fsum(row[: q + 1]) == pytest.approx(1)
            assert all(w == 0 for w in row[q + 1 :])
    other = ok("attention", dataset="names", name="emma")
    assert other["layers"][0][0][1] != heads[0][1]
    assert first["cut"] == 0


def test_attention_of_a_name_longer_than_the_block_says_what_it_left_out():
    answer = ok("attention", dataset="names", name="a" * 20)
    assert answer["block_size"] == 16
    assert len(answer["tokens"]) == 16 and answer["cut"] == 20 - 15
    assert "vocabulary" in call("attention", dataset="names", name="Zoë")["error"]


def test_attention_uses_the_playground_run_when_given():
    trainer = Trainer(NAMES, steps=20)
    for _ in range(5):
        trainer.step()
    assert "5 steps" in ok("set_run", state_json=json.dumps(trainer.state()))["source"]
    answer = ok("attention", dataset="names", name="mia")
    assert "playground" in answer["source"]
    assert answer["layers"] == trainer.attention("mia")
    assert "damaged" in call("set_run", state_json="{not json")["error"]
    ok("set_run", state_json=None)
    assert "untrained" in ok("attention", dataset="names", name="mia")["source"]


def test_train_step_reports_the_real_step_and_sizes():
    start = ok("train_reset", dataset="names")
    reference = Trainer(NAMES)
    assert start["doc"] == reference.train_docs[0]
    assert start["matrices"] == list(reference.params)  # the rows the figure shows at step 0
    before = reference.params
    expected_loss = reference.step()
    step = ok("train_step")
    assert step["step"] == 1 and step["loss"] == expected_loss
    update = {m["name"]: m["update"] for m in step["matrices"]}
    wte_change = math.sqrt(
        sum(
            (a - b) ** 2
            for ra, rb in zip(reference.params["wte"], before["wte"])
            for a, b in zip(ra, rb)
        )
    )
    assert update["wte"] == pytest.approx(wte_change)
    assert all(m["grad"] > 0 for m in step["matrices"])
    assert ok("train_step")["step"] == 2


def test_race_engines_give_the_same_losses():
    ok("race_reset", dataset="names")
    fast, scalar = ok("race_step", engine="fast"), ok("race_step", engine="scalar")
    assert fast["loss"] == pytest.approx(scalar["loss"], rel=1e-12)
    assert fast["ms"] > 0 and scalar["ms"] > 0
    assert "error" in call("race_step", engine="nope")


@pytest.fixture
def quick_sampling_model(monkeypatch):
    """Lesson 5's model trained 30 steps, not 300: what these tests check (the figure draws
    what Model.sample draws) holds at any step."""
    monkeypatch.setattr(lessons, "SAMPLING_TRAIN_STEPS", 30)


def test_next_probs_temperature_and_draw(quick_sampling_model):
    cold = ok("next_probs", dataset="names", context="em", temperature=0.3)["probs"]
    warm = ok("next_probs", dataset="names", context="em", temperature=2.0)["probs"]
    assert math.fsum(p for _, p in cold) == pytest.approx(1)
    assert cold[0][1] > warm[0][1]  # a low temperature sharpens the distribution
    drawn = ok("draw", dataset="names", context="em", temperature=0.3, seed=4)
    assert drawn["ch"] in {ch for ch, _ in cold}
    assert drawn["p"] == pytest.approx(dict(map(tuple, cold))[drawn["ch"]])
    assert "temperature" in call("next_probs", dataset="names", context="", temperature=0)["error"]


def test_draw_is_the_letter_model_sample_draws(quick_sampling_model):
    trainer = lessons._trained_here("names")
    assert trainer.step_count == 30
    for seed in range(20):
        drawn = ok("draw", dataset="names", context="", temperature=0.8, seed=seed)
        name = trainer.sample(n=1, temperature=0.8, seed=seed)[0]
        assert drawn["ch"] == name[:1]  # "" when the model ended at once
        assert drawn["ends"] == (name == "")


def spell(context, temperature, seed):
    """A name drawn letter by letter in the figure, as its "Draw" button does."""
    while True:
        drawn = ok("draw", dataset="names", context=context, temperature=temperature, seed=seed)
        context += drawn["ch"]
        seed += 1
        if drawn["ends"]:
            return context


def test_the_figure_ends_names_where_model_sample_does():
    """block_size 3: Model.sample writes names of up to 3 letters, and so must the figure
    (it used to stop one letter early, at 2)."""
    trainer = Trainer(NAMES, block_size=3, steps=30)
    for _ in range(30):
        trainer.step()
    ok("set_run", state_json=json.dumps(trainer.state()))
    assert max(map(len, trainer.sample(n=100, temperature=2.0, seed=1))) == 3
    assert ok("next_probs", dataset="names", context="ab", temperature=1.0)["max_name_length"] == 3
    names = [spell("", 2.0, seed) for seed in range(0, 400, 10)]
    assert max(map(len, names)) == 3
    drawn = ok("draw", dataset="names", context="a", temperature=1.0, seed=1)
    assert drawn["ends"] == (drawn["ch"] == "")  # 2 letters: only the end mark ends it
    for seed in range(10):
        assert ok("draw", dataset="names", context="ab", temperature=1.0, seed=seed)["ends"]
    assert "too long" in call("draw", dataset="names", context="abe", temperature=1.0, seed=0)[
        "error"
    ]


def test_overfit_figure_measures_training_and_held_out_names_of_a_real_run():
    start = ok("overfit_start", dataset="names", names=10)
    assert (start["train_docs"], start["val_docs"], start["steps"]) == (8, 2, 500)
    points = [start["point"]]
    while True:
        answer = ok("overfit_train")
        points.append(answer["point"])
        if answer["done"]:
            break
    assert [p["step"] for p in points] == list(range(0, 501, 50))
    # The figure's run is the run built by hand (a fixed pick of names, the Trainer's own
    # split, default settings), trained 500 steps, and its points are that run's losses.
    pick = random.Random(0).sample(NAMES.split("\n"), 10)
    reference = Trainer("\n".join(pick), steps=500, val_fraction=0.2)
    run = lessons._cache["overfit"]
    assert (run.text, run.settings, run.train_docs, run.val_docs) == (
        reference.text, reference.settings, reference.train_docs, reference.val_docs)
    assert run.step_count == 500 and len(run.losses) == 500
    assert points[-1]["val"] == run.evaluate(50)
    assert points[-1]["train"] == run.evaluate_docs(run.train_docs[:50])
    # Eight names, 500 steps: memorised. Training loss far below the held-out loss.
    assert points[-1]["train"] < 1 < 3 < points[-1]["val"]
    samples = answer["samples"]
    assert len(samples) == 20 and sum(s["trained_on"] for s in samples) >= 15
    assert all(s["trained_on"] == (s["name"] in reference.train_docs) for s in samples)
    assert "Choose" in call("overfit_start", dataset="names", names=7)["error"]


# --- lesson 6: the links into the playground ---------------------------------------------


def test_build_your_own_links_carry_valid_settings_and_real_datasets():
    """Each "settings to try" link must open a run the playground accepts as it is."""
    html = (ROOT / "lessons.html").read_text()
    links = re.findall(r'href="\./index\.html\?([^"]+)"', html)
    assert len(links) >= 5
    datasets = {d["id"] for d in json.loads((ROOT / "public/data/datasets.json").read_text())}
    for link in links:
        # The page reads a link's query with settings.from_query (its URL keys: the table's).
        pairs = parse_qsl(link.replace("&amp;", "&"), strict_parsing=True)
        found = from_query([list(p) for p in pairs])
        assert found["dataset"] in datasets, link
        assert found["problems"] == {}, (link, found["problems"])
        assert validate(found["settings"]) == {}, link
