"""Keeping work in real Chromium: the current run saves itself to IndexedDB and comes
back after a reload, resuming exactly; saved models; and storage that is full or refused."""

import json
import subprocess
import sys

import pytest
from browsing import DIST, ROOT, new_page
from pageutil import (
    error_text,
    generate_names,
    open_playground,
    py_call,
    state,
    steps_done,
    wait_steps,
)

QUOTA_SCRIPT = """
IDBObjectStore.prototype.put = function () {
  throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
};
"""
# The browser refusing TinyGPT's database, as private modes do: open() throws, or its
# request fails. (PyScript itself keeps its own IndexedDB, so only ours is refused.)
REFUSED_SCRIPTS = {
    "open-throws": """
const realOpen = IDBFactory.prototype.open;
IDBFactory.prototype.open = function (name, ...rest) {
  if (name === 'tinygpt') throw new DOMException('The user denied permission.', 'SecurityError');
  return realOpen.call(this, name, ...rest);
};""",
    "open-fails": """
const realOpen = IDBFactory.prototype.open;
IDBFactory.prototype.open = function (name, ...rest) {
  if (name !== 'tinygpt') return realOpen.call(this, name, ...rest);
  const request = {};
  setTimeout(() => {
    request.error = new DOMException('A mutation operation was attempted on a database '
      + 'that did not allow mutations.', 'InvalidStateError');
    request.onerror?.({target: request});
  });
  return request;
};""",
}


def wait_saved(page, at_least):
    page.wait_for_function(
        "n => +document.querySelector('[data-testid=storage-status]').dataset.step >= n",
        arg=at_least,
        timeout=30_000,
    )


def cli_losses(tmp_path, steps, seed):
    log = tmp_path / "steps.jsonl"
    subprocess.run(
        [sys.executable, "-m", "tinygpt", "train", "--data", str(DIST / "data/first_names.txt"),
         "--steps", str(steps), "--seed", str(seed), "--log", str(log)],
        check=True, capture_output=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT / "py")},
    )
    return [json.loads(line)["loss"] for line in log.read_text().splitlines()]


def uninterrupted_page_losses(browser, site, query):
    context, page = new_page(browser, site)  # its own storage: nothing to restore
    try:
        open_playground(page, site, query)
        page.click("[data-testid=train-toggle]")
        page.wait_for_selector("[data-testid=status][data-state=done]", timeout=60_000)
        return py_call(page, "info")["losses"]
    finally:
        context.close()


def test_reload_mid_training_resumes_with_the_same_losses(page, browser, site, tmp_path):
    steps, seed = 800, 5  # the fast engine runs about 170 steps/s: the reload comes mid-run
    query = f"?steps={steps}&seed={seed}&dataset=first_names"
    open_playground(page, site, query)
    page.click("[data-testid=train-toggle]")
    wait_saved(page, 100)  # a save made while training, by the 2 s / 200 step rule
    page.reload()  # mid-training: the page saves again as it goes
    page.wait_for_selector("[data-testid=status][data-state=paused]", timeout=30_000)
    restored = steps_done(page)
    assert 100 <= restored < steps
    info = py_call(page, "info")
    assert info["step"] == restored and len(info["losses"]) == restored
    assert page.input_value("#set-seed") == str(seed)
    assert page.text_content("[data-testid=loss-value]") != "–"  # the chart and stats are back
    page.click("[data-testid=train-toggle]")  # Resume
    page.wait_for_selector("[data-testid=status][data-state=done]", timeout=60_000)
    losses = py_call(page, "info")["losses"]
    print(f"reloaded at step {restored} of {steps}")
    # Every loss, before and after the reload, is the uninterrupted run's, bit for bit...
    assert losses == uninterrupted_page_losses(browser, site, query)
    # ...and the terminal's (CPython 3.11 rounds a few sums differently from Pyodide's).
    cli = cli_losses(tmp_path, steps, seed)
    assert len(cli) == steps and max(abs(a - b) for a, b in zip(losses, cli)) < 1e-9


def test_hiding_the_page_saves_the_run(page, site):
    open_playground(page, site, "?steps=2000")
    page.click("[data-testid=train-toggle]")
    wait_steps(page, 30)
    page.click("[data-testid=train-toggle]")  # pause, so the step count holds still
    paused_at = steps_done(page)
    page.evaluate("""() => {
        Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    wait_saved(page, paused_at)
    page.reload()
    page.wait_for_selector("[data-testid=status][data-state=paused]", timeout=30_000)
    assert steps_done(page) == paused_at


def test_new_run_forgets_the_saved_run(page, site):
    open_playground(page, site, "?steps=2000")
    page.click("[data-testid=train-toggle]")
    wait_steps(page, 20)
    wait_saved(page, 1)
    page.click("[data-testid=reset]")
    page.click("[data-testid=reset]")  # the confirmation
    assert state(page) == "ready"
    page.reload()
    page.wait_for_selector("[data-testid=status][data-state=ready]", timeout=30_000)
    page.wait_for_timeout(500)  # time for a restore, had there been anything to restore
    assert state(page) == "ready" and steps_done(page) == 0


def saved_names(page):
    return page.locator("[data-testid=saved-model-name]").all_text_contents()


def generate(page, seed):
    page.fill("#gen-seed", str(seed))
    return generate_names(page)


def test_saved_models_save_rename_open_delete_and_survive_reload(page, site):
    open_playground(page, site, "?steps=40&seed=8")
    page.click("[data-testid=train-toggle]")
    page.wait_for_selector("[data-testid=status][data-state=done]", timeout=60_000)
    names = generate(page, seed=4)
    page.click("[data-testid=save-model]")
    page.wait_for_selector("[data-testid=saved-model]")
    assert saved_names(page) == ["US first names, 40 steps"]
    assert "4,192 parameters" in page.text_content("[data-testid=saved-model]")
    # Rename from the keyboard; a blank name is refused, HTML is kept as text.
    page.focus("[data-testid=rename-saved-model]")
    page.keyboard.press("Enter")
    page.fill("[data-testid=rename-input]", "   ")
    page.keyboard.press("Enter")
    assert "Give the model a name" in page.text_content("[data-testid=saved-model]")
    page.fill("[data-testid=rename-input]", "<img src=x onerror=window.__pwned=1> best")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=saved-model-name]")
    assert saved_names(page) == ["<img src=x onerror=window.__pwned=1> best"]
    # It survives a reload; open it after a new run and it makes the same names.
    page.reload()
    page.wait_for_selector("[data-testid=saved-model-name]", timeout=30_000)
    assert saved_names(page) == ["<img src=x onerror=window.__pwned=1> best"]
    page.click("[data-testid=reset]")
    page.click("[data-testid=reset]") if state(page) != "ready" else None
    page.click("[data-testid=open-saved-model]")
    page.wait_for_selector("[data-testid=status][data-state=done]")
    assert py_call(page, "info")["trainable"] is False
    assert generate(page, seed=4) == names
    # Delete asks once more, then the model is gone, also after a reload.
    page.click("[data-testid=delete-saved-model]")
    assert saved_names(page) != []
    page.click("[data-testid=delete-saved-model]")
    page.wait_for_function("() => !document.querySelector('[data-testid=saved-model]')")
    page.reload()
    page.wait_for_selector("[data-testid=status][data-state=ready]", timeout=30_000)
    page.wait_for_selector("#saved-models li")
    assert saved_names(page) == []
    assert page.evaluate("window.__pwned") is None


def test_back_to_the_unfinished_run_after_opening_a_model(page, site):
    open_playground(page, site, "?steps=40&seed=8")
    page.click("[data-testid=train-toggle]")
    page.wait_for_selector("[data-testid=status][data-state=done]", timeout=60_000)
    page.click("[data-testid=save-model]")
    page.wait_for_selector("[data-testid=saved-model]")
    page.click("[data-testid=reset]")
    page.click("[data-testid=reset]")
    page.fill("#set-steps", "3000")
    page.click("[data-testid=train-toggle]")
    wait_steps(page, 30)
    page.click("[data-testid=open-saved-model]")  # stops training, keeps the run stored
    page.wait_for_selector("[data-testid=status][data-state=done]")
    stopped_at = py_call(page, "info")  # the opened model: not trainable
    assert stopped_at["trainable"] is False
    page.click("[data-testid=back-to-run]")
    page.wait_for_selector("[data-testid=status][data-state=paused]")
    assert py_call(page, "info")["step"] >= 30


def test_full_storage_shows_a_message_and_training_continues(browser, site):
    context, page = new_page(browser, site)
    context.add_init_script(QUOTA_SCRIPT)
    try:
        open_playground(page, site, "?steps=150")
        page.click("[data-testid=train-toggle]")
        page.wait_for_selector("[data-testid=error]", state="visible", timeout=30_000)
        message = error_text(page)
        assert "not being saved" in message and "full" in message
        assert "continues in memory" in message
        page.wait_for_selector("[data-testid=status][data-state=done]", timeout=60_000)
        assert steps_done(page) == 150
        assert "not being saved" in page.text_content("[data-testid=storage-status]")
        # Saving a model says the same, and the page still works.
        page.click("[data-testid=save-model]")
        assert "not being saved" in page.text_content("[data-testid=storage-status]")
        assert len(generate_names(page)) == 10
    finally:
        context.close()
    assert page.watch.errors == [] and page.watch.foreign == []


@pytest.mark.parametrize("how", sorted(REFUSED_SCRIPTS))
def test_refused_storage_shows_a_message_and_training_works(browser, site, how):
    context, page = new_page(browser, site)
    context.add_init_script(REFUSED_SCRIPTS[how])
    try:
        open_playground(page, site, "?steps=60")
        page.wait_for_selector("[data-testid=error]", state="visible", timeout=30_000)
        assert "not being saved" in error_text(page)
        assert "private browsing" in error_text(page)
        page.click("[data-testid=train-toggle]")
        page.wait_for_selector("[data-testid=status][data-state=done]", timeout=60_000)
        assert steps_done(page) == 60
        assert "not being saved" in page.text_content("[data-testid=storage-status]")
    finally:
        context.close()
    assert page.watch.errors == [] and page.watch.foreign == []
