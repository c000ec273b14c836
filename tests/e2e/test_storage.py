"""Keeping work in real Chromium: the current run saves itself to IndexedDB and comes
back after a reload, resuming exactly; saved models; and storage that is full or refused."""

import json
import subprocess
import sys

import pytest
from browsing import DIST, ROOT
from pageutil import (
    error_text,
    generate_names,
    idb_all,
    idb_count,
    idb_put,
    open_playground,
    py_call,
    state,
    steps_done,
    wait_restored,
    wait_saved,
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


def cli_losses(tmp_path, steps, seed):
    log = tmp_path / "steps.jsonl"
    subprocess.run(
        [sys.executable, "-m", "tinygpt", "train", "--data", str(DIST / "data/first_names.txt"),
         "--steps", str(steps), "--seed", str(seed), "--log", str(log)],
        check=True, capture_output=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT / "py")},
    )
    return [json.loads(line)["loss"] for line in log.read_text().splitlines()]


def uninterrupted_page_losses(page, site, query):
    """The losses of the run of `query` in `page` (empty storage: nothing to restore)."""
    open_playground(page, site, query)
    page.click("[data-testid=train-toggle]")
    page.wait_for_selector("[data-testid=status][data-state=done]", timeout=60_000)
    losses = py_call(page, "info")["losses"]
    page.watch.assert_clean()
    return losses


def test_reload_mid_training_resumes_with_the_same_losses(page, empty_storage_page, site,
                                                          tmp_path):
    steps, seed = 600, 5  # the fast engine runs about 170 steps/s: the reload comes mid-run
    query = f"?steps={steps}&seed={seed}&dataset=first_names"
    open_playground(page, site, query)
    page.click("[data-testid=train-toggle]")
    wait_saved(page, 100)  # a save made while training (about every second: autosave.js)
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
    assert losses == uninterrupted_page_losses(empty_storage_page(), site, query)
    # ...and the terminal's within 1e-9 (Pyodide's libm rounds a few exp and ** results
    # differently in the last bit; every sum is the same, see kernels.py).
    cli = cli_losses(tmp_path, steps, seed)
    assert len(cli) == steps and max(abs(a - b) for a, b in zip(losses, cli)) < 1e-9


# Tells the page it is hidden, as switching tabs does: the page saves its run at once.
HIDE_THE_PAGE = ("Object.defineProperty(document, 'visibilityState',"
                 " {value: 'hidden', configurable: true});"
                 " document.dispatchEvent(new Event('visibilitychange'));")


# Waits for a frame that shows the run's last step while the run is not done yet (its last
# held-out loss is still being measured), and hides the page then, which saves the run at
# once: a save in between, where the save about every second may happen to fall (it did,
# on a busy machine). Answers whether that moment came.
SAVE_BEFORE_THE_LAST_VALIDATION = f"""(last) => new Promise((answer) => {{
    const status = document.querySelector('[data-testid=status]');
    const count = document.querySelector('[data-testid=step-count]');
    const watch = new MutationObserver(() => {{
        if (status.dataset.state === 'done') {{
            watch.disconnect();
            answer(false);
        }} else if (+count.textContent >= last) {{
            watch.disconnect();
            {HIDE_THE_PAGE}
            answer(true);
        }}
    }});
    watch.observe(count, {{childList: true, characterData: true, subtree: true}});
    watch.observe(status, {{attributes: true}});
}})"""


def test_the_save_at_the_end_follows_a_save_made_at_the_same_step(page, site):
    # The last step comes before its held-out loss is measured (up to 100 held-out names,
    # a piece each: with the scalar engine, over many frames) and before the run is done;
    # a save in that moment holds the last step, not done, and no held-out loss yet. The
    # save when the run ends must still come: it used to be skipped because the step had
    # not changed, and the run stayed saved as unfinished, its history row showing the
    # older loss (test_runs.py saw that row on a busy machine).
    open_playground(page, site, "?steps=20&seed=2&val=0.1&engine=scalar")
    page.click("[data-testid=train-toggle]")
    assert page.evaluate(SAVE_BEFORE_THE_LAST_VALIDATION, 20), "the run was done at once"
    page.wait_for_selector("[data-testid=status][data-state=done]", timeout=60_000)
    info = py_call(page, "info")
    assert info["done"] and info["val_points"][-1][0] == 20
    for _ in range(150):  # the save at the end, then its history row (15 s at most)
        runs, history = idb_all(page, "runs"), idb_all(page, "history")
        if runs and runs[0]["done"] and history and history[0]["done"]:
            break
        page.wait_for_timeout(100)
    assert [(r["step"], r["done"]) for r in runs] == [(20, True)]
    assert [(h["done"], h["loss"]) for h in history] == [(True, info["loss"])]


def test_hiding_the_page_saves_the_run(page, site):
    open_playground(page, site, "?steps=2000")
    page.click("[data-testid=train-toggle]")
    wait_steps(page, 30)
    page.click("[data-testid=train-toggle]")  # pause, so the step count holds still
    paused_at = steps_done(page)
    page.evaluate(f"() => {{ {HIDE_THE_PAGE} }}")
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
    assert wait_restored(page) == "none"
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


def test_full_storage_shows_a_message_and_training_continues(page, site):
    page.add_init_script(QUOTA_SCRIPT)
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


@pytest.mark.parametrize("how", sorted(REFUSED_SCRIPTS))
def test_refused_storage_shows_a_message_and_training_works(page, site, how):
    page.add_init_script(REFUSED_SCRIPTS[how])
    open_playground(page, site, "?steps=60")
    page.wait_for_selector("[data-testid=error]", state="visible", timeout=30_000)
    assert "not being saved" in error_text(page)
    assert "private browsing" in error_text(page)
    page.click("[data-testid=train-toggle]")
    page.wait_for_selector("[data-testid=status][data-state=done]", timeout=60_000)
    assert steps_done(page) == 60
    assert "not being saved" in page.text_content("[data-testid=storage-status]")


def paused_and_saved(page, site, query, steps):
    """A run of `query` trained for at least `steps` steps, paused and saved: its step."""
    open_playground(page, site, query)
    page.click("[data-testid=train-toggle]")
    wait_steps(page, steps)
    page.click("[data-testid=train-toggle]")
    paused_at = steps_done(page)
    wait_saved(page, paused_at)
    return paused_at


# --- records nobody should have written -------------------------------------------------------
def test_malformed_records_are_kept_aside_and_saving_goes_on(page, site):
    paused_at = paused_and_saved(page, site, "?steps=3000&seed=4", 40)
    # Planted by another page of the site, as a lesson cell could: a run summary without
    # its step counts, a saved model whose name is not text, a run whose fields are wrong.
    other = page.context.new_page()
    other.goto(site + "data/datasets.json")
    idb_put(other, "history", {"id": "no-steps", "savedAt": 9e12, "settings": {}, "dataset": "x",
                               "curve": [], "val": [], "loss": 1.0})
    idb_put(other, "models", {"id": 99, "name": {"html": "<b>x</b>"}, "dataset": "x",
                              "params": 10, "config": {}, "steps": 1, "loss": 1, "savedAt": 1})
    idb_put(other, "runs", {"id": "bad-run", "savedAt": 1, "step": "many", "steps": 10,
                            "done": False, "dataset": {"id": "x", "title": "x"}, "state": {}})
    other.close()
    page.reload()
    page.wait_for_selector("[data-testid=status][data-state=paused]", timeout=60_000)
    assert steps_done(page) == paused_at  # this tab's run came back
    page.wait_for_function("() => document.querySelectorAll('[data-testid=kept-aside-run]').length"
                           " === 3", timeout=30_000)
    kept = {item["store"]: item for item in idb_all(page, "keptAside")}
    assert set(kept) == {"history", "models", "runs"}
    assert "step" in kept["history"]["reason"] and "name" in kept["models"]["reason"]
    assert "kept aside" in error_text(page) and "Something went wrong" not in error_text(page)
    # The history table shows the good rows; saving says it saves, and it does.
    assert page.locator("[data-testid=run-row]").count() == 1
    assert idb_count(page, "history") == 1 and idb_count(page, "runs") == 1
    page.click("[data-testid=train-toggle]")
    wait_steps(page, paused_at + 30)
    page.click("[data-testid=train-toggle]")
    wait_saved(page, steps_done(page))
    status = page.locator("[data-testid=storage-status]")
    assert status.get_attribute("data-state") == "saved"
    assert "not being saved" not in status.text_content() + error_text(page)
    assert [r["step"] for r in idb_all(page, "runs")] == [steps_done(page)]
    # The next load meets none of them again, and says nothing more about them.
    page.reload()
    page.wait_for_selector("[data-testid=status][data-state=paused]", timeout=60_000)
    page.wait_for_selector("[data-testid=kept-aside-run]")
    assert error_text(page) == ""


def test_a_failing_listener_fails_alone(page, site):
    open_playground(page, site, "?steps=20")  # a short run, to the end below
    answer = page.evaluate("""() => {
        const app = window.tinygptApp, heard = [];
        app.on('settings', () => { throw new Error('this listener broke'); });
        app.on('settings', () => heard.push('second'));
        app.emit('settings');  // must not throw
        let added = true;
        try { app.somethingNew = 1; added = 'somethingNew' in app; } catch { added = false; }
        return { heard, added };
    }""")
    assert answer == {"heard": ["second"], "added": False}  # and app takes no new members
    assert "this listener broke" in error_text(page)
    page.click("[data-testid=train-toggle]")  # the page goes on
    page.wait_for_selector("[data-testid=status][data-state=done]", timeout=60_000)


# --- runs left behind: listed with their size, forgotten on request, bounded ------------------
def test_runs_left_behind_are_listed_with_their_size_and_can_be_opened_or_forgotten(page, site):
    first_at = paused_and_saved(page, site, "?steps=3000&seed=8", 30)
    first_id = idb_all(page, "runs")[0]["id"]
    # A model opened over the run, then a new run: the first run stays saved, and shown.
    page.click("[data-testid=save-model]")
    page.click("[data-testid=open-saved-model]")
    page.wait_for_selector("[data-testid=status][data-state=done]")
    page.click("[data-testid=reset]")  # no run on the page to discard: at once
    page.click("[data-testid=train-toggle]")
    wait_steps(page, 20)
    page.click("[data-testid=train-toggle]")
    wait_saved(page, steps_done(page))
    page.wait_for_function("() => document.querySelectorAll('[data-testid=saved-run]').length"
                           " === 2",
                           timeout=15_000)
    left = page.locator(f"[data-testid=saved-run][data-id='{first_id}']")
    record = next(r for r in idb_all(page, "runs") if r["id"] == first_id)
    size = len(json.dumps(record))
    summary = left.locator("[data-testid=saved-run-summary]").text_content()
    shown_kb = float(summary.split(" KB")[0])
    assert abs(shown_kb * 1000 - size) < 0.2 * size, (summary, size)
    assert f"step {first_at:,} of 3,000" in left.text_content()
    other = page.locator(f"[data-testid=saved-run]:not([data-id='{first_id}'])")
    assert "on this page" in other.text_content() and "on this page" not in left.text_content()
    assert other.locator("[data-testid=forget-saved-run]").count() == 0  # not this tab's run
    # Open it: this tab's run is saved first, and the first run is back where it was.
    left.locator("[data-testid=open-saved-run]").click()
    page.wait_for_selector("[data-testid=status][data-state=paused]")
    page.wait_for_function("n => +document.querySelector('[data-testid=step-count]')"
                           ".textContent === n", arg=first_at)
    # Forget the other one: asked once more, then gone from the list and the database.
    other.locator("[data-testid=forget-saved-run]").click()
    assert idb_count(page, "runs") == 2
    other.locator("[data-testid=forget-saved-run]").click()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=saved-run]').length === 1")
    assert [r["id"] for r in idb_all(page, "runs")] == [first_id]


def test_storage_over_the_limit_offers_the_oldest_and_deletes_nothing_unasked(page, site):
    open_playground(page, site, "?steps=60&seed=2")
    page.click("[data-testid=train-toggle]")
    page.wait_for_selector("[data-testid=status][data-state=done]", timeout=60_000)
    wait_saved(page, 60)
    [record] = idb_all(page, "runs")
    for i in range(11):  # runs left by other tabs long ago: older than this one
        idb_put(page, "runs", {**record, "id": f"old-{i:02}", "savedAt": 1000 + i})
    page.reload()
    page.wait_for_selector("[data-testid=status][data-state=done]", timeout=60_000)
    notice = page.locator("[data-testid=storage-limit]")
    notice.wait_for(state="visible", timeout=15_000)
    assert "12 saved runs" in notice.text_content() and "limit of 10" in notice.text_content()
    assert "Forget the 2 oldest" in notice.text_content()
    page.wait_for_timeout(500)
    assert idb_count(page, "runs") == 12  # nothing deleted unasked
    page.click("[data-testid=forget-oldest]")
    assert idb_count(page, "runs") == 12  # asked once more first
    page.click("[data-testid=forget-oldest]")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=saved-run]').length === 10")
    kept = sorted(r["id"] for r in idb_all(page, "runs"))
    assert kept == sorted([record["id"]] + [f"old-{i:02}" for i in range(2, 11)])
    assert notice.is_hidden()


def test_a_reload_before_new_runs_delete_lands_does_not_bring_the_run_back(page, site):
    """'New run' deletes the record after the saves queued before it; a reload can come
    first. The run's id is written down at once, so it is not restored, and the start
    after the reload deletes it."""
    open_playground(page, site, "?steps=2000")
    page.click("[data-testid=train-toggle]")
    wait_steps(page, 20)
    wait_saved(page, 1)
    run_id = page.evaluate("() => window.tinygptApp.runId")
    # Hold the delete back, as a slow save before it would: the record is still there.
    page.evaluate("""() => { IDBObjectStore.prototype.delete = function () {
        throw new Error('held: the page reloads before the delete lands'); }; }""")
    page.click("[data-testid=reset]")
    page.click("[data-testid=reset]")  # the confirmation
    assert [r["id"] for r in idb_all(page, "runs")] == [run_id]  # the attack: still stored
    assert run_id in page.evaluate("() => localStorage.getItem('tinygpt-discarded-runs')")
    page.reload()
    page.wait_for_selector("[data-testid=status][data-state=ready]", timeout=30_000)
    page.wait_for_function(
        "id => !JSON.parse(localStorage.getItem('tinygpt-discarded-runs')).includes(id)",
        arg=run_id, timeout=10_000)
    assert steps_done(page) == 0 and state(page) == "ready"
    assert idb_all(page, "runs") == []  # deleted at this start
