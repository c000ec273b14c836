"""microgpt.py's own run in the page: makemore's names.txt with the microgpt recipe, then
"Generate as microgpt.py does" draws the 20 names the CLI prints (and microgpt.py published).

The expected names are computed here with the package in CPython (the CLI's way: the run's
own generator after 1000 steps); the published ones are microgpt.py's output as
public/data/SOURCES.md quotes it. The draw's long tasks are checked after a short run, by a
test that runs alone (timed): the 1000 steps before it are no long-task check's subject.
"""

import json
import re

import pytest
from browsing import ROOT
from longtasks import assert_no_long_tasks, start_long_task_check
from pageutil import open_playground, py_call, state

from tinygpt.settings import MICROGPT_SAMPLES
from tinygpt.trainer import Trainer

DATA = ROOT / "public" / "data" / "makemore_names.txt"
NOTE = "[data-testid=microgpt-note]"
BUTTON = "[data-testid=generate-microgpt]"


@pytest.fixture(scope="module")
def cli_names():
    """What `python -m tinygpt train --data names.txt` prints as its samples."""
    trainer = Trainer(DATA.read_text(encoding="utf-8"))
    while not trainer.done:
        trainer.step()
    return trainer.losses, trainer.sample(
        MICROGPT_SAMPLES["n"], MICROGPT_SAMPLES["temperature"], rng=trainer.rng
    )


def published_names():
    """The sample names microgpt.py's published output shows: {number: name}."""
    text = (ROOT / "public" / "data" / "SOURCES.md").read_text(encoding="utf-8")
    shown = {int(n): name for n, name in re.findall(r"^    sample +(\d+): (\w+)$", text, re.M)}
    last = re.search(r"(\d+) samples in all, at temperature [\d.]+, the last one: (\w+)", text)
    return {**shown, int(last[1]): last[2]}


def test_microgpts_run_in_the_page_draws_microgpts_names(page, site, cli_names):
    cli_losses, want = cli_names
    # Lesson 6 links to this run: the playground opens with its recipe and data.
    page.goto(site + "lessons.html#build")
    page.click("[data-testid=microgpt-run-link]")
    page.wait_for_selector("[data-testid=status][data-state=ready]", timeout=60_000)
    assert "index.html?" in page.url and "dataset=makemore_names" in page.url
    assert page.input_value("[data-testid=dataset-select]") == "makemore_names"
    assert page.input_value("#recipe-select") == "microgpt"
    assert "32,033 lines" in page.text_content("#dataset-info")
    # Before a run: no generator to draw with, and the page says why.
    assert page.is_disabled(BUTTON)
    assert "Train a run first" in page.text_content(NOTE)

    page.click("[data-testid=train-toggle]")
    page.wait_for_selector("[data-testid=status][data-state=training]", timeout=30_000)
    page.click("[data-testid=train-toggle]")  # pause: a run, but not done
    page.wait_for_selector("[data-testid=status][data-state=paused]")
    assert page.is_disabled(BUTTON)
    assert "after its last step" in page.text_content(NOTE)
    refused = page.evaluate(
        "() => JSON.parse(window.tinygptCall('start_generate', JSON.stringify({run_rng: true})))"
    )
    assert refused["kind"] == "user" and "finish the run first" in refused["error"]

    page.click("[data-testid=train-toggle]")  # resume, to the end: about 6-12 s
    page.wait_for_selector("[data-testid=status][data-state=done]", timeout=120_000)
    losses = py_call(page, "info")["losses"]
    assert len(losses) == 1000
    assert max(abs(a - b) for a, b in zip(losses, cli_losses)) < 1e-9
    assert [f"{x:.4f}" for x in losses[-4:]] == ["1.7791", "2.4764", "2.4730", "2.6497"]

    assert page.is_enabled(BUTTON)
    assert "no seed" in page.text_content(NOTE)
    page.click(BUTTON)
    page.wait_for_selector("[data-testid=samples][data-state=done]", timeout=30_000)
    names = page.locator("[data-testid=sample]").all_text_contents()
    assert names == want
    for number, name in published_names().items():
        assert names[number - 1] == name, (number, name)
    assert "microgpt.py" in page.text_content("#generate-status")
    # The run's generator is copied, not used up: the same 20 names again.
    page.click(BUTTON)
    page.wait_for_selector("[data-testid=samples][data-state=done]", timeout=30_000)
    assert page.locator("[data-testid=sample]").all_text_contents() == want
    assert state(page) == "done"


@pytest.mark.timed
def test_drawing_as_microgpt_does_has_no_long_task(page, site):
    """The draw of the test above, timed: a finished run (a short one: the draw is the same
    20 names from a model of the same size, whatever the run's length) draws as
    microgpt.py does with no long task, and the same names twice."""
    open_playground(page, site, "?dataset=makemore_names&recipe=microgpt&steps=20")
    page.click("[data-testid=train-toggle]")
    page.wait_for_selector("[data-testid=status][data-state=done]", timeout=30_000)
    start_long_task_check(page)
    page.click(BUTTON)
    page.wait_for_selector("[data-testid=samples][data-state=done]", timeout=30_000)
    names = page.locator("[data-testid=sample]").all_text_contents()
    assert_no_long_tasks(page, "while drawing names as microgpt.py does")
    assert len(names) == MICROGPT_SAMPLES["n"]
    page.click(BUTTON)
    page.wait_for_selector("[data-testid=samples][data-state=done]", timeout=30_000)
    assert page.locator("[data-testid=sample]").all_text_contents() == names


def test_an_opened_model_has_no_run_generator(page, site, tmp_path):
    """A model opened from a file has no run, so no run's generator: the button says why.
    After a finished run, the same page offered it."""
    trainer = Trainer("anna\nbob\ncarl\nhanna\n", n_embd=8, n_head=2, steps=5)
    while not trainer.done:
        trainer.step()
    model = tmp_path / "model.json"
    model.write_text(json.dumps(trainer.model_file()))
    open_playground(page, site, "?steps=5&n_embd=8&n_head=2")
    page.click("[data-testid=train-toggle]")
    page.wait_for_selector("[data-testid=status][data-state=done]", timeout=30_000)
    assert page.is_enabled(BUTTON)
    page.set_input_files("[data-testid=open-model-file]", str(model))
    page.wait_for_function(
        "() => document.querySelector('[data-testid=microgpt-note]').textContent"
        ".includes('opened')"
    )
    assert page.is_disabled(BUTTON)
    assert page.is_enabled("[data-testid=generate]")  # the model itself still generates
