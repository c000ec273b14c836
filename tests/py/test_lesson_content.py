"""The lessons' content against the code: what every code cell prints, every number the
prose takes from the code, every line of code the prose quotes, the claims the prose
makes about the cells' results, and no speed figure without its command and machine.

Cell outputs are pinned in lesson_cells.json. When a change of the code or of a cell
changes an output on purpose, regenerate the file and read its diff:
    TINYGPT_UPDATE_LESSON_OUTPUTS=1 python -m pytest tests/py/test_lesson_content.py
then check the prose around the cell still says what the output shows.
"""

import importlib
import inspect
import io
import json
import math
import os
import re
from contextlib import redirect_stderr, redirect_stdout
from html.parser import HTMLParser
from pathlib import Path

import pytest
from helpers import ROOT

from tinygpt import lessons
from tinygpt.data import parse_documents
from tinygpt.model import Config, param_shapes
from tinygpt.settings import RECIPES, RUN_DEFAULTS
from tinygpt.trainer import Trainer
from tinygpt.value import Value

HTML = (ROOT / "lessons.html").read_text()
FIXTURE = Path(__file__).with_name("lesson_cells.json")
LESSONS = ["tokens", "autograd", "attention", "training", "sampling", "build"]


class LessonPage(HTMLParser):
    """Code cells (lesson, code) in page order; marked numbers and quotes of code; the
    prose text of each lesson (without cells)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.cells, self.computed, self.quotes = [], [], []
        self.prose = {}
        self._stack = []  # (tag, kind) of open elements we track
        self._view = None
        self._scope = None
        self._buffer = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        kind = None
        if tag == "section" and "data-view" in a:
            self._view, kind = a["data-view"], "view"
            self.prose[self._view] = []
        elif "data-scope" in a:
            self._scope, kind = a["data-scope"], "cell"
        elif tag == "pre" and "cell-source" in a.get("class", ""):
            self._buffer, kind = [], "source"
        elif "data-computed" in a:
            self._buffer, kind = [], ("computed", a["data-computed"])
        elif "data-source" in a:
            self._buffer, kind = [], ("quote", a["data-source"])
        self._stack.append((tag, kind))

    def handle_endtag(self, tag):
        while self._stack:
            open_tag, kind = self._stack.pop()
            if kind == "source":
                self.cells.append((self._scope, "".join(self._buffer)))
                self._buffer = None
            elif isinstance(kind, tuple):
                target = self.computed if kind[0] == "computed" else self.quotes
                target.append((kind[1], "".join(self._buffer), self._view))
                self._buffer = None
            elif kind == "cell":
                self._scope = None
            if open_tag == tag:
                break

    def handle_data(self, data):
        if self._buffer is not None:
            self._buffer.append(data)
        if self._view and self._scope is None:
            self.prose[self._view].append(data)


PAGE = LessonPage()
PAGE.feed(HTML)


def run_lessons():
    """Every cell in page order, a namespace per lesson as in the page; returns
    [(lesson, number, stdout)] and {(lesson, number): namespace snapshot after it}."""
    namespaces, outputs, snapshots, numbers = {}, [], {}, {}
    for lesson, code in PAGE.cells:
        namespace = namespaces.setdefault(lesson, {"__name__": "__main__"})
        numbers[lesson] = numbers.get(lesson, 0) + 1
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            ok = lessons.run_cell(code, namespace)
        assert ok and not err.getvalue(), (
            f"cell {numbers[lesson]} of lesson {lesson!r} fails:\n{err.getvalue()}"
        )
        outputs.append((lesson, numbers[lesson], out.getvalue()))
        snapshots[(lesson, numbers[lesson])] = dict(namespace)
    return outputs, snapshots


@pytest.fixture(scope="module")
def ran():
    return run_lessons()


def test_every_lesson_has_cells_and_an_interactive_figure():
    """The README says so: prose, an interactive figure and code cells in each lesson."""
    assert [lesson for lesson in LESSONS if lesson not in {c[0] for c in PAGE.cells}] == []
    for lesson in LESSONS:
        section = HTML.split(f'data-view="{lesson}"')[1].split("</section>")[0]
        assert '<figure class="figure"' in section, f"lesson {lesson!r} has no figure"


def test_every_cell_prints_what_the_fixture_pins(ran):
    outputs, _ = ran
    got = [{"lesson": lesson, "cell": n, "output": out} for lesson, n, out in outputs]
    if os.environ.get("TINYGPT_UPDATE_LESSON_OUTPUTS"):
        FIXTURE.write_text(json.dumps({"cells": got}, indent=1, ensure_ascii=False) + "\n")
        pytest.skip(f"rewrote {FIXTURE.name}: read its diff")
    want = json.loads(FIXTURE.read_text())["cells"]
    assert [(c["lesson"], c["cell"]) for c in got] == [(c["lesson"], c["cell"]) for c in want], (
        "the cells of lessons.html are not those of lesson_cells.json (see this file's docstring)"
    )
    for g, w in zip(got, want):
        assert g["output"] == w["output"], (
            f"cell {g['cell']} of lesson {g['lesson']!r} now prints something else; if that is "
            "meant, regenerate lesson_cells.json and check the prose around the cell"
        )


# --- numbers in the prose, computed from the code --------------------------------------------


def first_names():
    return parse_documents((ROOT / "public/data/first_names.txt").read_text())


def package_lines():
    """What `wc -l py/tinygpt/*.py` counts."""
    files = sorted((ROOT / "py/tinygpt").glob("*.py"))
    return sum(f.read_text().count("\n") for f in files)


def makemore_names():
    return parse_documents((ROOT / "public/data/makemore_names.txt").read_text())


def microgpt_published():
    """microgpt.py's published output on names.txt, as public/data/SOURCES.md quotes it: the
    losses and sample names lesson 6 cites. (tests/py/test_cli.py checks that TinyGPT's run
    prints them; here they are read, not trained, to keep this test fast.)"""
    text = (ROOT / "public/data/SOURCES.md").read_text()
    losses = re.findall(r"^    step +\d+ / \d+ \| loss (\d\.\d{4})$", text, re.M)
    samples = re.findall(r"^    sample +\d+: (\w+)$", text, re.M)
    return losses, samples


def scalar_nodes(name):
    """Nodes of the scalar engine's graph for one training step on `name`."""
    from tinygpt.model import document_loss

    trainer = Trainer("\n".join(first_names()))
    state = {k: [[Value(w) for w in row] for row in m] for k, m in trainer.params.items()}
    loss = document_loss(state, trainer.config, trainer.tokenizer.encode(name))
    return len(loss.topological_order())


def uniform(vocab_size):
    return f"{math.log(vocab_size):.2f}"


def computed(snapshots):
    """{key: the text the page must show} for every data-computed number."""
    lesson3 = snapshots[("attention", 1)]  # the shapes its first cell prints
    shapes = param_shapes(lesson3["config"], lesson3["vocab_size"])
    shapes = {name: f"{rows} × {cols}" for name, rows, cols in shapes}
    lesson4 = snapshots[("training", 1)]["trainer"]
    lesson6 = snapshots[("build", 1)]["trainer"]
    batches = {RECIPES[name].settings["batch"] for name in ("one-minute", "five-minutes")}
    assert len(batches) == 1, "lesson 4 says both recipes train the same names per step"
    published_losses, published_samples = microgpt_published()
    return {
        "package-lines": f"{round(package_lines(), -2):,}",
        "scalar-nodes-olivia": f"{scalar_nodes('olivia'):,}",
        "shape-mlp_fc1": shapes["layer0.mlp_fc1"],
        "shape-lm_head": shapes["lm_head"],
        "default-block-size": str(Config().block_size),
        "default-n-embd": str(Config().n_embd),
        "default-n-head": str(Config().n_head),
        "default-n-layer": str(Config().n_layer),
        "default-max-name-length": str(Trainer("ab").max_name_length),
        "lesson4-letters": str(len(lesson4.tokenizer.chars)),
        "lesson4-vocab": str(lesson4.tokenizer.vocab_size),
        "lesson4-uniform-loss": uniform(lesson4.tokenizer.vocab_size),
        "lesson4-first-loss": f"{lesson4.losses[0]:.2f}",
        "beta1": str(RUN_DEFAULTS["beta1"]),
        "beta2": str(RUN_DEFAULTS["beta2"]),
        "eps": f"{RUN_DEFAULTS['eps']:.0e}".replace("e-0", "e-"),
        "lr": str(RUN_DEFAULTS["lr"]),
        "recipe-batch": str(batches.pop()),
        "makemore-names-count": f"{len(makemore_names()):,}",
        "microgpt-last-loss": published_losses[-1],
        "microgpt-first-samples": ", ".join(published_samples[:3]),
        "lesson6-epochs": str(lesson6.steps // len(lesson6.train_docs)),
        "lesson6-vocab": str(lesson6.tokenizer.vocab_size),
        "lesson6-uniform-loss": uniform(lesson6.tokenizer.vocab_size),
        "first-names-count": f"{len(first_names()):,}",
    }


def test_every_marked_number_is_what_the_code_gives(ran):
    want = computed(ran[1])
    marked = {key for key, _, _ in PAGE.computed}
    assert marked == set(want), (
        f"marked in lessons.html but not computed here: {sorted(marked - set(want))}; "
        f"computed here but no longer marked: {sorted(set(want) - marked)}"
    )
    for key, shown, lesson in PAGE.computed:
        assert shown == want[key], (
            f'lesson {lesson!r}: <span data-computed="{key}"> says {shown}, the code gives '
            f"{want[key]}: update the number and the prose around it"
        )


def test_quoted_code_is_in_the_code_it_names():
    assert len(PAGE.quotes) >= 2
    for where, code, lesson in PAGE.quotes:
        parts = where.split(".")
        obj = None
        for i in range(len(parts), 1, -1):  # the longest importable prefix, then attributes
            try:
                obj = importlib.import_module(".".join(parts[:i]))
            except ImportError:
                continue
            for attr in parts[i:]:
                obj = getattr(obj, attr)
            break
        assert obj is not None, f"lesson {lesson!r} quotes {where}, which does not exist"
        assert code in inspect.getsource(obj), (
            f"lesson {lesson!r} quotes `{code}` from {where}, which no longer has it"
        )


# --- claims the prose makes about the cells --------------------------------------------------


def test_lesson4_claims(ran):
    snapshots = ran[1]
    trainer = snapshots[("training", 1)]["trainer"]
    uniform_loss = math.log(trainer.tokenizer.vocab_size)
    assert trainer.losses[0] > uniform_loss  # "even a little worse than the uniform guess"
    names = trainer.train_docs
    assert names[40 % len(names)] == "emma" and trainer.losses[40] > trainer.losses[30]
    optimizer = trainer.optimizer  # lr at k = 0, lr / steps at k = steps - 1
    assert optimizer.learning_rate(0) == optimizer.lr
    assert optimizer.learning_rate(trainer.steps - 1) == pytest.approx(optimizer.lr / trainer.steps)


def test_step_k_trains_on_name_k_mod_n():
    """Lesson 4 and API.md: each step's loss is that of train_docs[k % N], before the update."""
    trainer = Trainer("emma\nolivia\nava", steps=8)
    for k in range(8):
        expected = trainer.document_loss(trainer.train_docs[k % 3])
        assert trainer.step() == pytest.approx(expected, rel=1e-12)


def test_lesson6_claims(ran):
    outputs, snapshots = ran
    memorised = snapshots[("build", 1)]
    assert all(name in memorised["trainer"].train_docs for name in memorised["names"])
    held_out = snapshots[("build", 2)]["trainer"]
    out = next(out for lesson, n, out in outputs if (lesson, n) == ("build", 2))
    lines = [line for line in out.splitlines() if line.startswith("step")]
    points = [tuple(map(float, re.findall(r"(\d+\.\d+)", line))) for line in lines]
    train, val = zip(*points)
    assert list(train) == sorted(train, reverse=True) and list(val) == sorted(val)
    # "up to about that of a uniform guess", far above the training names' loss
    assert abs(val[-1] - math.log(held_out.tokenizer.vocab_size)) < 0.1 and val[-1] > 3 * train[-1]
    # "every letter of the held-out names is in the names it trains on"
    assert set("".join(held_out.val_docs)) <= set("".join(held_out.train_docs))
    # "The tokenizer is built from all eight names, before the Trainer sets some aside"
    everything = held_out.train_docs + held_out.val_docs
    assert len(everything) == 8 and held_out.tokenizer.chars == sorted(set("".join(everything)))
    # "the default run's 1000 steps each train on a different one of the first names"
    assert RUN_DEFAULTS["steps"] <= len(first_names())


def test_lesson3_causal_claim(ran):
    """The changed letter is the last one: every position before it gives the same logits."""
    outputs, _ = ran
    out = next(out for lesson, n, out in outputs if lesson == "attention" and "position" in out)
    verdicts = [line.split()[-1] for line in out.splitlines()]
    assert verdicts == ["same"] * (len(verdicts) - 1) + ["different"]


def test_readme_numbers():
    readme = (ROOT / "README.md").read_text()
    count = re.search(r"([\d,]+) US census first names", readme).group(1)
    assert count == f"{len(first_names()):,}"


def test_the_fast_engines_count_of_scalar_nodes_is_lesson_2s():
    import tinygpt.fast

    docstring = " ".join(tinygpt.fast.__doc__.split())
    assert f"{scalar_nodes('olivia'):,} for a six-letter name" in docstring


# --- speed figures ---------------------------------------------------------------------------

SPEED = re.compile(
    r"\d[\d.,]*\s*(ms per step|ms/step|steps/s\b|steps per second|x faster|× faster|"
    r"times faster|% of (the )?(wall )?time|seconds? per step)",
    re.I,
)


def test_the_lessons_prose_makes_no_speed_claims():
    """Speeds differ from machine to machine; the lessons measure them live (the race in
    lesson 4) instead of quoting them."""
    for lesson, parts in PAGE.prose.items():
        match = SPEED.search(" ".join("".join(parts).split()))
        assert not match, f"lesson {lesson!r} quotes a speed: {match.group(0)!r}"


def test_every_readme_speed_figure_names_its_command_and_machine():
    readme = (ROOT / "README.md").read_text()
    for section in re.split(r"\n(?=## )", readme):
        if SPEED.search(section):
            title = section.splitlines()[0]
            assert re.search(r"`[^`]*(python|npm|bench)[^`]*`", section), (
                f"README section {title!r} quotes a speed without the command that measured it"
            )
            assert "machine" in section, (
                f"README section {title!r} quotes a speed without the machine it was measured on"
            )
