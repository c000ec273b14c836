"""The lessons page in real Chromium: every lesson, its first cell, edits, errors, a
runaway cell stopped, every interactive figure reacting to input, progress across
reloads, and screenshots (desktop and 375 px).

One page is shared by the tests of this module (starting two Pyodide workers costs
seconds), so the tests run in file order and each leaves the page usable.
"""

import json
import math
import sys
import time

import pytest
from browsing import ROOT, new_page
from pageutil import open_lessons, show_lesson, two_frames

sys.path.insert(0, str(ROOT / "py"))
from tinygpt.trainer import Trainer  # noqa: E402 - the package the cells import

LESSONS = ["tokens", "autograd", "attention", "training", "sampling", "build"]
DONE_STATES = "['done', 'error', 'stopped']"


@pytest.fixture(scope="module")
def lessons_pages():
    opened = {}  # browser -> (close, page)
    yield opened
    for close, page in opened.values():
        close()
        page.watch.assert_clean()


@pytest.fixture
def lessons(lessons_pages, request, browser, site, timed_test):
    """The lessons page, opened once for the module's tests (once in each browser they
    need: conftest.browser) and left as each test leaves it: for a timed test, a page of
    the timed tests' context (conftest.timed_context), else in a context of its own."""
    if browser not in lessons_pages:
        if timed_test:
            shared = request.getfixturevalue("timed_context")
            page, close = shared.clean_page(), shared.close_pages
        else:
            context, page = new_page(browser, site)
            close = context.close
        open_lessons(page, site)
        lessons_pages[browser] = close, page
    return lessons_pages[browser][1]


def view(page, lesson):
    return page.locator(f"[data-view={lesson}]")


def cell(page, lesson, index=0):
    return view(page, lesson).locator("[data-testid=code-cell]").nth(index)


def run_cell(page, box, timeout=60_000):
    """Press Run and wait for the cell to finish; returns its output text."""
    box.locator("[data-testid=run]").click()
    page.wait_for_function(
        f"el => {DONE_STATES}.includes(el.dataset.state)",
        arg=box.element_handle(),
        timeout=timeout,
    )
    return box.locator("[data-testid=cell-output]").text_content()


def set_code(page, box, code):
    """Replace the editor's text as a reader would: select all, then type/paste."""
    box.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(code)


def screenshot(page, lesson, path):
    """A full-page screenshot as a reader scrolling through would see it.

    CodeMirror measures an editor's line heights only once it has been in the window;
    a full-page capture shows editors below the fold unmeasured (a squeezed gutter),
    which no reader ever sees. So pass each editor through the window first.
    """
    for editor in view(page, lesson).locator(".cm-editor").all():
        editor.scroll_into_view_if_needed()
        two_frames(page)
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=True)


def wait_ready(page, figure, timeout=60_000):
    page.wait_for_selector(f"#{figure}[data-ready=true]", timeout=timeout)


# --- expected cell outputs: what CPython prints, pinned in tests/py/lesson_cells.json ------

CELLS = json.loads((ROOT / "tests" / "py" / "lesson_cells.json").read_text())["cells"]


def expected_output(lesson, number=1):
    """What cell `number` of `lesson` prints in CPython (test_lesson_content.py keeps it)."""
    return next(c["output"] for c in CELLS if (c["lesson"], c["cell"]) == (lesson, number))


# --- the tests, in order ------------------------------------------------------------------


def test_start_view_lists_the_lessons_in_order(lessons, site):
    page = lessons
    titles = page.locator("[data-testid=lesson-list] li a").all_text_contents()
    assert titles == [
        "Tokens",
        "Autograd",
        "Attention and the transformer",
        "Training",
        "Sampling",
        "Build your own",
    ]
    page.click("#continue-link")
    page.wait_for_selector("[data-view=tokens]:not([hidden])")
    assert page.url.endswith("lessons.html#tokens")
    assert page.is_hidden("[data-view=start]")


def test_every_lesson_runs_its_first_cell_and_links_to_the_next(lessons, site, screenshots):
    page = lessons
    show_lesson(page, site, "tokens")
    for number, lesson in enumerate(LESSONS, 1):
        assert page.url.endswith(f"#{lesson}")
        heading = view(page, lesson).locator("h2").text_content()
        assert heading.startswith(f"{number}. ")
        started = time.perf_counter()
        output = run_cell(page, cell(page, lesson))
        print(f"{lesson}: first cell {time.perf_counter() - started:.1f} s")
        assert cell(page, lesson).get_attribute("data-state") == "done", output
        assert output.strip() == expected_output(lesson).strip(), (lesson, output)
        figure = view(page, lesson).locator("figure")
        if figure.count():
            wait_ready(page, figure.first.get_attribute("id"))
        screenshot(page, lesson, screenshots / f"lesson-{number}.png")
        link = view(page, lesson).locator("[data-testid=lesson-link]")
        if number < len(LESSONS):
            link.click()
            page.wait_for_selector(f"[data-view={LESSONS[number]}]:not([hidden])")
        else:
            assert link.get_attribute("href") == "./index.html"


def test_an_edited_cell_prints_the_edited_result_and_reset_restores_it(lessons, site):
    page = lessons
    show_lesson(page, site, "tokens")
    box = cell(page, "tokens")
    original = box.evaluate("el => el.editor.state.doc.toString()")
    docs = ["xyz", "zap"]
    set_code(
        page,
        box,
        f"from tinygpt.data import Tokenizer\nprint(Tokenizer.from_docs({docs!r}).encode('zyx'))",
    )
    chars = sorted(set("".join(docs)))
    expected = [len(chars)] + [chars.index(c) for c in "zyx"] + [len(chars)]
    assert run_cell(page, box).strip() == str(expected)
    box.locator("[data-testid=reset-cell]").click()
    assert box.evaluate("el => el.editor.state.doc.toString()") == original


def test_a_cell_with_an_error_shows_a_readable_traceback(lessons, site):
    page = lessons
    show_lesson(page, site, "autograd")
    box = cell(page, "autograd")
    set_code(page, box, "from tinygpt.value import Value\nx = Value(1.0)\nx.nonexistent()")
    output = run_cell(page, box)
    assert box.get_attribute("data-state") == "error"
    assert output.startswith("Traceback (most recent call last):")
    assert 'File "<cell>", line 3' in output and "x.nonexistent()" in output
    assert "AttributeError" in output and "_pyodide" not in output and "pyodide.asm" not in output
    assert box.locator(".stderr").count() == 1
    box.locator("[data-testid=reset-cell]").click()


@pytest.mark.timed
def test_a_runaway_cell_can_be_stopped_and_the_page_keeps_working(lessons, site):
    page = lessons
    show_lesson(page, site, "tokens")
    wait_ready(page, "fig-tokens")
    box = cell(page, "tokens")
    set_code(page, box, "print('looping')\nwhile True:\n    pass")
    box.locator("[data-testid=run]").click()
    page.wait_for_function("el => el.textContent.includes('looping')", arg=box.element_handle())
    # The page answers while Python spins: a figure still reacts to typing.
    started = time.perf_counter()
    page.fill("#tokens-text", "ava")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=token-ids] li').length === 3"
    )
    assert time.perf_counter() - started < 5
    assert box.get_attribute("data-state") == "running"
    box.locator("[data-testid=stop]").click()
    page.wait_for_function("el => el.dataset.state === 'stopped'", arg=box.element_handle())
    assert "Stopped" in box.locator("[data-testid=cell-output]").text_content()
    # A new run works on the fresh Python.
    box.locator("[data-testid=reset-cell]").click()
    assert "decode back: ava" in run_cell(page, box)


def ids_shown(page):
    return page.locator("[data-testid=token-ids] li .id").all_text_contents()


def test_tokens_figure_shows_ids_unknown_characters_and_vocabulary(lessons, site):
    page = lessons
    show_lesson(page, site, "tokens")
    wait_ready(page, "fig-tokens")
    page.select_option("#tokens-dataset", "first_names")
    names = (ROOT / "public" / "data" / "first_names.txt").read_text().split()
    chars = sorted(set("".join(names)))
    page.fill("#tokens-text", "zoe")
    expected = [str(chars.index(c)) for c in "zoe"]
    page.wait_for_function(
        "ids => [...document.querySelectorAll('[data-testid=token-ids] li .id')]"
        ".map(e => e.textContent).join() === ids.join()",
        arg=expected,
    )
    page.fill("#tokens-text", "Zoë!")
    page.wait_for_selector("[data-testid=tokens-message][data-kind=error]")
    message = page.text_content("[data-testid=tokens-message]")
    assert '"Z"' in message and '"!"' in message and "Not in the vocabulary" in message
    assert ids_shown(page)[0] == "?"
    rows = page.locator("[data-testid=vocab-table] tbody tr")
    assert rows.count() == len(chars) + 1  # and BOS
    page.select_option("#tokens-dataset", "pokemon")
    pokemon = (ROOT / "public" / "data" / "pokemon.txt").read_text().splitlines()
    pokemon_chars = sorted(set("".join(line.strip() for line in pokemon)))
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=vocab-table] tbody tr').length === n",
        arg=len(pokemon_chars) + 1,
    )


def graph_texts(page):
    return page.locator("[data-testid=autograd-graph] text").all_text_contents()


def test_autograd_figure_redraws_the_graph_and_checks_gradients(lessons, site):
    page = lessons
    show_lesson(page, site, "autograd")
    wait_ready(page, "fig-autograd")
    before = graph_texts(page)
    page.fill("#autograd-code", "x = Value(3.0)\ny = Value(4.0)\nout = x * y + x.exp()")
    page.click("#autograd-draw")
    page.wait_for_function(
        "before => [...document.querySelectorAll('[data-testid=autograd-graph] text')]"
        ".map(t => t.textContent).join('|') !== before.join('|')",
        arg=before,
    )
    page.wait_for_function(
        "() => document.querySelector('[data-testid=autograd-message]').textContent"
        ".startsWith('out =')"
    )
    grad_x = 4.0 + math.exp(3.0)  # d/dx (xy + e^x)
    rows = page.locator("[data-testid=fd-table] tbody tr")
    assert rows.count() == 2
    cells = rows.nth(0).locator("th, td").all_text_contents()
    assert cells[0] == "x" and float(cells[1]) == pytest.approx(grad_x, abs=1e-5)
    assert float(cells[2]) == pytest.approx(grad_x, rel=1e-6) and cells[3] == "yes"
    assert "grad 3" in graph_texts(page)  # y's gradient is x
    page.fill("#autograd-code", "out = 1 +")
    page.click("#autograd-draw")
    page.wait_for_selector("[data-testid=autograd-message][data-kind=error]")
    assert "SyntaxError" in page.text_content("[data-testid=autograd-message]")


def heatmap_numbers(page):
    return page.locator("[data-testid=attention-heatmaps] td").all_text_contents()


def test_attention_heatmap_changes_with_the_name(lessons, site):
    page = lessons
    show_lesson(page, site, "attention")
    wait_ready(page, "fig-attention")
    page.fill("#attention-name", "emma")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=attention-heatmaps] table').length === 4"
        " && document.querySelector('.heatmap').rows.length === 6"
    )
    before = heatmap_numbers(page)
    page.fill("#attention-name", "olivia")
    page.wait_for_function(
        "() => document.querySelector('.heatmap').rows.length === 8"
    )  # header + BOS + 6 letters
    after = heatmap_numbers(page)
    assert after != before
    # BOS can only attend to itself: 100 %; later positions to themselves and before.
    assert page.text_content(".heatmap tr:nth-of-type(2) td") == "100"
    assert page.locator(".heatmap tr:nth-of-type(2) td.masked").count() == 4 * 6  # 4 heads
    page.fill("#attention-name", "abcdefghijklmnopqrst")  # 20 letters: the block holds 15
    page.wait_for_function("() => document.querySelector('.heatmap').rows.length === 17")
    assert "the last 5 character(s) are left out" in page.text_content(
        "[data-testid=attention-message]"
    )


def test_training_figure_steps_and_races_the_engines(lessons, site):
    page = lessons
    show_lesson(page, site, "training")
    wait_ready(page, "fig-training")
    page.click("#train-restart")
    page.click("#train-step")
    page.wait_for_selector("#fig-training[data-steps='1']")
    names = (ROOT / "public" / "data" / "first_names.txt").read_text()
    reference = Trainer(names)
    first_loss = reference.step()
    summary = page.text_content("[data-testid=training-summary]")
    assert f"loss {first_loss:.4f}" in summary, summary
    assert page.locator("[data-testid=grad-table] tbody tr").count() == 9
    page.click("#train-step")
    page.wait_for_selector("#fig-training[data-steps='2']")
    assert f"loss {reference.step():.4f}" in page.text_content("[data-testid=training-summary]")
    page.fill("#race-steps", "3")
    page.click("#race-run")
    page.wait_for_selector("#fig-training[data-raced='3']", timeout=60_000)
    for engine in ("fast", "scalar"):
        tds = page.locator(f"[data-testid=race-table] tr[data-engine={engine}] td")
        assert tds.nth(0).text_content() == "3"
        assert float(tds.nth(1).text_content()) > 0
    fast_ms = float(page.text_content("tr[data-engine=fast] td:nth-child(3)"))
    scalar_ms = float(page.text_content("tr[data-engine=scalar] td:nth-child(3)"))
    print(f"ms/step: fast {fast_ms}, scalar {scalar_ms}")
    assert scalar_ms > fast_ms
    page.fill("#race-steps", "500")
    page.click("#race-run")
    page.wait_for_selector("[data-testid=race-message][data-kind=error]")


def bar_values(page):
    return [
        float(x)
        for x in page.eval_on_selector_all(
            "[data-testid=prob-bars] li", "els => els.map(e => e.dataset.p)"
        )
    ]


def test_sampling_bars_follow_the_temperature_and_a_name_is_drawn(lessons, site):
    page = lessons
    show_lesson(page, site, "sampling")
    wait_ready(page, "fig-sampling", timeout=90_000)
    page.click("#sampling-clear")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=sampling-message]').textContent"
        ".startsWith('The first letter')"
    )
    cold = bar_values(page)
    page.eval_on_selector(
        "#sampling-temperature",
        "el => { el.value = '2'; el.dispatchEvent(new Event('input', {bubbles: true})); }",
    )
    page.wait_for_function(
        "top => +document.querySelector('[data-testid=prob-bars] li').dataset.p < top",
        arg=cold[0],
    )
    assert page.text_content("#sampling-temperature-value") == "2.0"
    # The bars are app/probbars.js's: testids, labels, an accessible description.
    bars = page.locator("[data-testid=prob-bars] [data-testid=next-letter-bar]")
    assert bars.count() == 12
    labels = page.locator("[data-testid=prob-bars] .bar-label").all_text_contents()
    chars = page.eval_on_selector_all(
        "[data-testid=next-letter-bar]", "els => els.map(e => e.dataset.ch)"
    )
    assert [label == "↵ end" for label in labels] == [ch == "" for ch in chars]
    assert "likeliest next letters" in page.get_attribute(
        "[data-testid=prob-bars]", "aria-description"
    )
    # The longest "name so far" comes from the model (block_size 16: 15 letters, then one more).
    assert page.get_attribute("#fig-sampling", "data-max-name-length") == "16"
    assert page.eval_on_selector("#sampling-context", "el => el.maxLength") == 15
    for expected_length in (1, 2):
        page.click("#sampling-step")
        page.wait_for_function(
            "n => document.querySelector('#sampling-context').value.length === n "
            "|| document.querySelector('[data-testid=sampling-message]').textContent"
            ".includes('end mark')",
            arg=expected_length,
        )
    assert page.input_value("#sampling-context")


def test_sampling_figure_writes_a_name_as_long_as_model_sample_does(lessons, site, screenshots):
    """15 letters typed, the next draw is the 16th and last (Model.ends_name)."""
    page = lessons
    show_lesson(page, site, "sampling")
    wait_ready(page, "fig-sampling", timeout=90_000)
    page.fill("#sampling-context", "abcdefghijklmno")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=sampling-message]').textContent"
        ".startsWith('After \"abcdefghijklmno\"')"
    )
    page.click("#sampling-step")
    page.wait_for_function(
        "() => /end mark|the most this model writes/.test("
        "document.querySelector('[data-testid=sampling-message]').textContent)"
    )
    message = page.text_content("[data-testid=sampling-message]")
    if "the most this model writes" in message:
        assert len(page.input_value("#sampling-context")) == 16
        assert page.locator("[data-testid=next-letter-bar].chosen").count() <= 1
    assert page.is_disabled("#sampling-step")
    screenshot(page, "sampling", screenshots / "lesson-5-drawn.png")
    page.click("#sampling-clear")
    page.wait_for_function("() => !document.querySelector('#sampling-step').disabled")


def test_overfit_figure_shows_training_and_held_out_loss_part(lessons, site, screenshots):
    page = lessons
    show_lesson(page, site, "build")
    wait_ready(page, "fig-overfit")
    page.select_option("#overfit-names", "10")
    page.click("#overfit-run")
    page.wait_for_selector("#fig-overfit[data-done='10']", timeout=120_000)
    rows = page.locator("[data-testid=overfit-table] tbody tr")
    assert rows.count() == 11  # steps 0, 50, ..., 500
    last = rows.nth(10).locator("th, td").all_text_contents()
    # The same run in CPython: the page's numbers agree to the digits shown.
    from tinygpt import lessons as lesson_module

    text = (ROOT / "public" / "data" / "first_names.txt").read_text()
    lesson_module.use_dataset("first_names", text)
    lesson_module.overfit_start("first_names", 10)
    answer = {"done": False}
    while not answer["done"]:
        answer = lesson_module.overfit_train()
    point = answer["point"]
    assert last == ["500", f"{point['train']:.3f}", f"{point['val']:.3f}"]
    assert point["train"] < point["val"]
    assert page.locator("[data-testid=overfit-chart] polyline").count() == 2
    samples = page.locator("[data-testid=overfit-samples] li")
    assert samples.count() == 20
    copies = sum(s["trained_on"] for s in answer["samples"])
    assert page.locator("[data-testid=overfit-samples] li.copy").count() == copies
    assert f"{copies} of them are names it trained on" in page.text_content(
        "[data-testid=overfit-summary]"
    )
    screenshot(page, "build", screenshots / "lesson-6-overfit.png")


def test_progress_is_remembered_across_reloads(lessons, site):
    page = lessons
    page.goto(site + "lessons.html")
    page.wait_for_selector("[data-view=start]:not([hidden])")
    statuses = page.eval_on_selector_all(
        "[data-testid=lesson-list] li", "els => els.map(e => e.dataset.status)"
    )
    assert statuses == ["completed"] * 6  # every first cell ran above
    page.click("#reset-progress")
    page.goto(site + "lessons.html#autograd")
    page.reload()
    page.goto(site + "lessons.html#start")
    page.wait_for_selector("[data-view=start]:not([hidden])")
    statuses = page.eval_on_selector_all(
        "[data-testid=lesson-list] li", "els => els.map(e => e.dataset.status)"
    )
    assert statuses == ["new", "visited", "new", "new", "new", "new"]
    assert "Continue with lesson 1" in page.text_content("#continue-link")


def test_attention_uses_the_run_saved_by_the_playground(lessons, site):
    page = lessons
    trainer = Trainer("emma\nolivia\nava\nmia", steps=10)
    for _ in range(3):
        trainer.step()
    state = json.dumps(trainer.state())
    # Saved as the playground saves a run: through its storage module, app/db.js.
    page.evaluate(
        """async state => {
            const db = await import('./app/db.js');
            await db.putRun({id: db.newRunId(), savedAt: Date.now(), step: 3, steps: 10,
                             done: false, dataset: {id: 'custom', title: ''},
                             state: JSON.parse(state)});
        }""",
        state,
    )
    page.goto(site + "lessons.html#attention")
    page.reload()  # a fresh page reads the saved run
    page.wait_for_selector("[data-testid=python-status][data-state=ready]", timeout=60_000)
    page.fill("#attention-name", "mia")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=attention-source]').textContent"
        ".includes('playground (3 steps')"
    )
    page.wait_for_function("() => document.querySelector('.heatmap')?.rows.length === 5")
    weights = trainer.attention("mia")[0][0]  # layer 1, head 1
    shown = page.locator(".heatmap").first.locator("tr").nth(3).locator("td").all_text_contents()
    assert shown[:3] == [f"{w * 100:.0f}" for w in weights[2][:3]]


def test_a_build_your_own_link_opens_the_playground_with_its_settings(page, site):
    page.goto(site + "lessons.html#build")
    page.get_by_role("link", name="Wider").click()
    page.wait_for_selector("[data-testid=status][data-state=ready]", timeout=60_000)
    assert page.url.split("/")[-1].startswith("index.html?")
    assert page.input_value("#set-n_embd") == "32"
    assert page.input_value("#set-steps") == "3000"
    assert page.get_attribute("#set-n_embd", "aria-invalid") != "true"


def test_phone_layout(page, site, screenshots):
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(site + "lessons.html#attention")
    page.wait_for_selector("#fig-attention[data-ready=true]", timeout=60_000)
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    assert overflow <= 375, f"the page is {overflow} px wide at 375 px"
    screenshot(page, "attention", screenshots / "lesson-3-phone.png")
    for number, lesson in ((5, "sampling"), (6, "build")):
        show_lesson(page, site, lesson)
        figure = view(page, lesson).locator("figure").first.get_attribute("id")
        wait_ready(page, figure, timeout=90_000)
        overflow = page.evaluate("() => document.documentElement.scrollWidth")
        assert overflow <= 375, f"lesson {lesson} is {overflow} px wide at 375 px"
        screenshot(page, lesson, screenshots / f"lesson-{number}-phone.png")
