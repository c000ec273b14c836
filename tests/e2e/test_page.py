"""The playground in real Chromium: start-up, training, generating, errors, the frame
loop's responsiveness, URL settings, and the phone layout."""

import json
import math
import subprocess
import sys
import time

import pytest
from browsing import DIST, ROOT
from longtasks import assert_no_long_tasks, start_long_task_check
from pageutil import (
    error_text,
    generate_names,
    open_playground,
    py_call,
    set_text,
    state,
    steps_done,
    wait_error,
    wait_steps,
)


@pytest.mark.fresh_context  # a first visit: a service worker's copy would go past page.route
def test_startup_reaches_ready_with_visible_progress(page, site):
    # Python's start does not wait for the page: hold its runtime back while we look.
    held = []
    page.route("**/vendor/pyodide/pyodide.asm.wasm", lambda route: held.append(route))
    page.goto(site, wait_until="domcontentloaded")
    # While Python starts, the progress bar is visible and the controls are disabled.
    assert page.is_visible("#loading")
    assert page.is_disabled("[data-testid=train-toggle]")
    assert state(page) == "loading"
    while not held:
        page.wait_for_timeout(50)
    for route in held:
        route.continue_()
    page.unroute("**/vendor/pyodide/pyodide.asm.wasm")
    started = time.perf_counter()
    page.wait_for_selector("[data-testid=status][data-state=ready]", timeout=30_000)
    print(f"ready {time.perf_counter() - started:.1f} s after navigation")
    assert page.is_hidden("#loading")
    assert page.is_enabled("[data-testid=train-toggle]")
    # The presets are offered with counts, and the first one is previewed.
    options = page.locator("[data-testid=dataset-select] option").all_text_contents()
    assert any("first names" in o.lower() for o in options)
    assert "lines" in page.text_content("#dataset-info")


def test_training_lowers_loss_and_generates_names(page, site, screenshots):
    open_playground(page, site, "?steps=200")
    page.click("[data-testid=train-toggle]")
    # A new run is built in a few short tasks before training starts.
    page.wait_for_selector("[data-testid=status][data-state=training]", timeout=10_000)
    wait_steps(page, 200)
    page.wait_for_selector("[data-testid=status][data-state=done]")
    losses = py_call(page, "info")["losses"]
    assert len(losses) == 200
    first, last = sum(losses[:20]) / 20, sum(losses[-50:]) / 50
    assert last < first - 0.5, (first, last)
    shown = float(page.text_content("[data-testid=loss-value]"))
    assert abs(shown - last) < 0.5  # the loss shown (the last 100 steps' mean) is about those
    names = generate_names(page)
    assert len(names) == 10 and all(names)
    vocabulary = set(py_call(page, "info")["chars"])
    assert all(set(n) <= vocabulary | {"(", ")", " "} for n in names)
    page.click("[data-testid=next-letter]")
    assert page.locator("#prob-bars li").count() > 0
    page.screenshot(path=str(screenshots / "playground-trained.png"), full_page=True)


@pytest.mark.timed
def test_no_long_tasks_while_training_and_page_answers(page, site):
    open_playground(page, site, "?steps=400")
    start_long_task_check(page)
    page.click("[data-testid=train-toggle]")
    wait_steps(page, 50)
    # Typing while training lands at once.
    started = time.perf_counter()
    page.fill("#gen-prefix", "ma")
    page.click("[data-testid=temperature]")
    assert time.perf_counter() - started < 1.0
    wait_steps(page, 400)
    assert_no_long_tasks(page, "while training")
    rate = float(page.text_content("[data-testid=steps-per-second]"))
    print(f"fast engine with the UI live: {rate:.0f} steps/s")
    assert rate > 30  # far below what it does (about 100), but it proves the loop runs freely


def test_pause_resume_and_new_run(page, site):
    open_playground(page, site, "?steps=1000")
    page.click("[data-testid=train-toggle]")
    wait_steps(page, 20)
    page.click("[data-testid=train-toggle]")
    assert state(page) == "paused"
    paused_at = steps_done(page)
    page.wait_for_timeout(300)
    assert steps_done(page) == paused_at  # paused means paused
    assert len(py_call(page, "info")["losses"]) == paused_at
    # Settings that define the run are locked; the engine is not.
    assert page.is_disabled("#set-n_embd") and page.is_enabled("#set-engine")
    page.click("[data-testid=train-toggle]")
    assert state(page) == "training"
    wait_steps(page, paused_at + 10)
    # New run asks first, then starts over.
    page.click("[data-testid=reset]")
    assert state(page) in ("training", "paused") and steps_done(page) > 0
    page.click("[data-testid=reset]")
    assert state(page) == "ready"
    assert steps_done(page) == 0
    assert page.is_enabled("#set-n_embd")
    assert page.locator("[data-testid=sample]").count() == 0


def test_engine_switch_mid_run_continues(page, site):
    # Enough steps that the fast engine (about 170 steps/s) is still training at the pause.
    open_playground(page, site, "?steps=300&engine=fast")
    page.click("[data-testid=train-toggle]")
    wait_steps(page, 5)
    page.click("[data-testid=train-toggle]")
    paused_at = steps_done(page)
    assert state(page) == "paused" and paused_at < 300
    page.select_option("#set-engine", "scalar")
    page.click("[data-testid=train-toggle]")
    wait_steps(page, paused_at + 3)  # scalar steps: about 100 ms each
    page.click("[data-testid=train-toggle]")
    info = py_call(page, "info")
    assert info["settings"]["engine"] == "scalar" and len(info["losses"]) == steps_done(page)
    page.select_option("#set-engine", "fast")
    page.click("[data-testid=train-toggle]")
    page.wait_for_selector("[data-testid=status][data-state=done]", timeout=60_000)
    info = py_call(page, "info")
    assert info["settings"]["engine"] == "fast"
    assert len(info["losses"]) == 300 and all(math.isfinite(x) for x in info["losses"])


def test_invalid_settings_show_reasons_and_page_keeps_working(page, site):
    open_playground(page, site)
    page.fill("#set-n_head", "3")  # 16 is not divisible by 3
    assert "divisible" in page.text_content("[data-testid=error-n_head]")
    page.fill("#set-lr", "-1")
    assert "learning rate" in page.text_content("[data-testid=error-lr]").lower()
    page.fill("#set-steps", "")  # a number field cannot hold letters; blank is the bad case
    assert page.text_content("[data-testid=error-steps]")
    page.click("[data-testid=train-toggle]")
    assert "settings" in error_text(page).lower()
    assert state(page) == "ready"
    # Fixing them makes the page train.
    page.fill("#set-n_head", "4")
    page.fill("#set-lr", "0.01")
    page.fill("#set-steps", "20")
    assert page.text_content("[data-testid=error-n_head]") == ""
    page.click("[data-testid=train-toggle]")
    page.wait_for_selector("[data-testid=status][data-state=done]")


def test_bad_datasets_are_explained(page, site):
    open_playground(page, site, "?steps=20")
    page.select_option("[data-testid=dataset-select]", "custom")
    set_text(page, "[data-testid=dataset-text]", "   \n\n  \n")
    page.click("[data-testid=train-toggle]")
    assert "empty" in wait_error(page, "empty").lower()
    assert state(page) == "ready"
    set_text(page, "[data-testid=dataset-text]", "ab\u0007c\n")
    page.click("[data-testid=train-toggle]")
    assert "control character" in wait_error(page, "control character").lower()
    hostile = '<img src=x onerror="window.__pwned=1">\n<script>window.__pwned=1</script>\n'
    set_text(page, "[data-testid=dataset-text]", hostile * 20)
    page.click("[data-testid=train-toggle]")
    page.wait_for_selector("[data-testid=status][data-state=done]")
    generate_names(page)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#samples img, #dataset-preview img").count() == 0


def test_divergence_is_reported_in_words(page, site):
    open_playground(page, site, "?steps=200&lr=10")
    page.click("[data-testid=train-toggle]")
    page.wait_for_selector("[data-testid=status][data-state=error]", timeout=60_000)
    message = error_text(page).lower()
    assert "diverged" in message and "learning rate" in message
    # The page still works: a new run with a sane rate trains.
    page.click("[data-testid=reset]")
    page.click("[data-testid=reset]") if state(page) != "ready" else None
    page.fill("#set-lr", "0.01")
    page.fill("#set-steps", "10")
    page.click("[data-testid=train-toggle]")
    page.wait_for_selector("[data-testid=status][data-state=done]")


def test_url_settings_reproduce_the_cli_run(page, site, tmp_path):
    steps, seed = 40, 7
    query = f"?steps={steps}&seed={seed}&lr=0.02&n_embd=8&n_head=2&n_layer=2&block_size=8"
    open_playground(page, site, query + "&dataset=first_names")
    assert page.input_value("#set-n_layer") == "2"
    page.click("[data-testid=train-toggle]")
    page.wait_for_selector("[data-testid=status][data-state=done]")
    page_losses = py_call(page, "info")["losses"]
    log = tmp_path / "steps.jsonl"
    subprocess.run(
        [sys.executable, "-m", "tinygpt", "train", "--data", str(DIST / "data/first_names.txt"),
         "--steps", str(steps), "--seed", str(seed), "--lr", "0.02", "--n-embd", "8",
         "--n-head", "2", "--n-layer", "2", "--block-size", "8", "--log", str(log)],
        check=True, capture_output=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT / "py")},
    )
    cli_losses = [json.loads(line)["loss"] for line in log.read_text().splitlines()]
    assert len(cli_losses) == len(page_losses) == steps
    assert max(abs(a - b) for a, b in zip(cli_losses, page_losses)) < 1e-6
    # The copy-link control gives back a URL with the same settings.
    page.click("[data-testid=copy-run-link]")


def test_bad_url_settings_are_explained(page, site):
    open_playground(page, site, "?steps=-5&n_embd=7&dataset=nope")
    assert "nope" in error_text(page) or page.text_content("[data-testid=error-steps]")
    assert page.text_content("[data-testid=error-steps]")
    assert state(page) == "ready"


def test_phone_layout_and_keyboard(page, site, screenshots):
    page.set_viewport_size({"width": 375, "height": 740})
    open_playground(page, site, "?steps=30")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the phone"
    # Every control has an accessible name.
    unlabeled = page.evaluate("""() =>
        [...document.querySelectorAll('input, select, textarea, button')]
        .filter(e => !e.labels?.length && !e.getAttribute('aria-label')
                     && !e.textContent.trim())
        .map(e => e.id || e.outerHTML.slice(0, 60))""")
    assert unlabeled == []
    # The train button is reachable and works from the keyboard.
    page.focus("[data-testid=train-toggle]")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=status][data-state=done]")
    page.screenshot(path=str(screenshots / "playground-phone.png"), full_page=True)


