"""The "Inside the model" panel in real Chromium: live embeddings, attention heatmaps and
next-letter bars while the model trains, the probes, no long task, the phone layout, and
a model opened from a file."""

import pytest
from longtasks import assert_no_long_tasks, start_long_task_check
from pageutil import open_playground, py_call, two_frames, wait_steps

from tinygpt.checkpoint import dumps
from tinygpt.trainer import Trainer

PANEL = "[data-testid=insides]"


def points(page, testid="embedding-point"):
    """{label: (x, y)} of the embedding points, where the picture draws them."""
    return page.eval_on_selector_all(
        f"{PANEL} [data-testid={testid}]",
        """els => Object.fromEntries(els.map(e => [e.textContent,
            (e.style.transform.match(/-?[\\d.]+/g) || []).map(Number)]))""",
    )


def cells(page):
    return page.eval_on_selector_all(
        f"{PANEL} [data-testid=attention-cell]", "els => els.map(e => e.style.background)"
    )


def bars(page):
    return page.locator(f"{PANEL} [data-testid=next-letter-bar]").all_text_contents()


def columns(page):
    """Key columns of the first heatmap: BOS plus the probe name's letters."""
    return page.eval_on_selector(f"{PANEL} table.heatmap", "t => t.rows[0].cells.length - 1")


def wait_columns(page, n):
    page.wait_for_function(
        "([sel, n]) => document.querySelector(sel).rows[0].cells.length === n + 1",
        arg=[f"{PANEL} table.heatmap", n],
    )


def panel_step(page):
    return page.get_attribute(PANEL, "data-step")


def wait_panel_step_change(page, before, timeout=30_000):
    page.wait_for_function(
        "([sel, before]) => { const s = document.querySelector(sel).dataset.step;"
        " return s && s !== before; }",
        arg=[PANEL, before],
        timeout=timeout,
    )


# Every view's height and the document position of the Generate button (below them).
LAYOUT = """() => {
    const top = (el) => Math.round(el.getBoundingClientRect().top + window.scrollY);
    return {
        views: [...document.querySelectorAll('.insides-view')]
            .map((v) => Math.round(v.getBoundingClientRect().height)),
        generate: top(document.querySelector('[data-testid=generate]')),
    };
}"""


def assert_views_keep_their_place(page):
    """Scrolling each view of a filled panel into view moves nothing: a click aimed before
    such a jump lands on whatever moved under the pointer. (With the views'
    `content-visibility: auto`, a view drawn out of sight kept a placeholder height until
    scrolled to: a view grew by 266 px on a phone in Chromium. tests/browsers checks the
    same in Firefox and WebKit.)"""
    page.evaluate("window.scrollTo(0, 0)")
    two_frames(page)
    before = page.evaluate(LAYOUT)
    assert len(before["views"]) == 3
    for i in range(3):
        page.evaluate("(i) => document.querySelectorAll('.insides-view')[i]"
                      ".scrollIntoView({block: 'center'})", i)
        two_frames(page)  # scrolled
        two_frames(page)  # and whatever the scroll set off (a resize) drawn too
        assert page.evaluate(LAYOUT) == before, f"the layout moved when view {i + 1} came into view"


@pytest.mark.timed
def test_the_panel_follows_training_live_with_no_long_task(page, site, screenshots):
    open_playground(page, site, "?steps=600")
    toggle = page.locator("[data-testid=insides-toggle]")
    assert toggle.get_attribute("aria-expanded") == "true"  # open by default on a wide screen
    start_long_task_check(page)
    page.click("[data-testid=train-toggle]")
    wait_steps(page, 100)
    page.wait_for_selector(f"{PANEL} [data-testid=embedding-point]")
    vocabulary = py_call(page, "info")["chars"]
    first = points(page)
    assert len(first) == len(vocabulary) + 1  # every letter, and BOS as the end mark
    assert "↵" in first and set(vocabulary) - {" "} <= set(first)
    first_cells, first_bars, step = cells(page), bars(page), panel_step(page)
    assert first_cells and 1 <= len(first_bars) <= 10
    assert all("%" in bar for bar in first_bars)
    wait_panel_step_change(page, step)
    wait_steps(page, int(step) + 150)
    wait_panel_step_change(page, panel_step(page))
    later = points(page)
    moved = max(abs(later[c][0] - first[c][0]) + abs(later[c][1] - first[c][1]) for c in first)
    assert moved > 0.5, "the embedding points did not move while training"
    assert cells(page) != first_cells, "the heatmaps did not change while training"
    assert bars(page) != first_bars, "the bars did not change while training"
    page.wait_for_selector("[data-testid=status][data-state=done]", timeout=120_000)
    assert_no_long_tasks(page, "while training with the panel open")
    # Done: the panel shows the final state.
    page.wait_for_function(f"() => document.querySelector('{PANEL}').dataset.step === '600'")
    assert "step 600" in page.text_content("#insides-status")
    box = page.locator(PANEL).bounding_box()
    scroll = page.evaluate("scrollY")
    page.screenshot(path=str(screenshots / "insides-desktop.png"), full_page=True,
                    clip={**box, "y": box["y"] + scroll})
    page.screenshot(path=str(screenshots / "insides-desktop-page.png"), full_page=True)


def test_the_probes_change_the_views(page, site):
    open_playground(page, site, "?steps=300")
    page.click("[data-testid=train-toggle]")
    wait_steps(page, 60)
    page.wait_for_selector(f"{PANEL} table.heatmap")
    default_name = page.input_value("[data-testid=probe-name]")
    assert default_name  # the first training name
    assert columns(page) == min(len(default_name), 15) + 1
    page.fill("[data-testid=probe-name]", "ab")
    wait_columns(page, 2 + 1)
    page.fill("[data-testid=probe-name]", "abigail")
    wait_columns(page, 7 + 1)
    heads = page.locator(f"{PANEL} table.heatmap").count()
    assert heads == 4
    assert page.locator(f"{PANEL} [data-testid=attention-cell]").count() == 4 * 8 * 8
    # The text alternative: the most attended position of each query, per head.
    assert page.locator("#insides-attention-text li").count() == 4
    assert page.text_content("#insides-attention-text li").startswith("head 1: ↵ → ↵, a → ")
    page.wait_for_selector("[data-testid=status][data-state=done]", timeout=60_000)
    page.wait_for_function(f"() => document.querySelector('{PANEL}').dataset.step === '300'")
    assert_views_keep_their_place(page)  # on a wide screen: two columns
    # A prefix changes the bars; a letter the model does not know is explained, and the
    # panel keeps its last good state.
    before = bars(page)
    page.fill("[data-testid=probe-prefix]", "ma")
    page.wait_for_function("b => document.querySelectorAll('[data-testid=next-letter-bar]')[0]"
                           ".textContent !== b", arg=before[0] if before else "")
    after_ma = bars(page)
    assert after_ma != before
    assert "“ma”" in page.text_content("#insides-next-caption")
    page.fill("[data-testid=probe-prefix]", "m9")
    page.wait_for_function("() => document.querySelector('#err-probe-prefix').textContent !== ''")
    assert "'9'" in page.text_content("#err-probe-prefix")
    assert page.get_attribute("[data-testid=probe-prefix]", "aria-invalid") == "true"
    assert bars(page) == after_ma
    # The temperature of section 4 flattens or sharpens the bars.
    page.fill("[data-testid=probe-prefix]", "ma")
    page.fill("[data-testid=temperature]", "3")
    page.wait_for_function(
        "() => document.querySelector('#insides-next-caption').textContent.includes('3')")
    assert bars(page) != after_ma
    # The neighbours of a chosen letter, as text.
    page.select_option("[data-testid=neighbour-letter]", label="e")
    page.wait_for_function(
        "() => document.querySelector('.scatter .point.chosen')?.textContent === 'e'")
    assert len(page.text_content("[data-testid=neighbours]").split(", ")) == 5
    assert page.text_content("#insides-dims") == "16"
    # Positions: one point per position of the block.
    page.check("input[name=insides-map][value=positions]")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=position-point]').length == 16")
    assert page.is_visible("#insides-positions") and page.is_hidden("#insides-letters")


def test_closing_the_panel_stops_the_work_and_keyboard_reaches_it(page, site):
    open_playground(page, site, "?steps=200")
    toggle = page.locator("[data-testid=insides-toggle]")
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert page.is_hidden("#insides-body")
    page.click("[data-testid=train-toggle]")
    page.wait_for_selector("[data-testid=status][data-state=done]", timeout=60_000)
    assert page.get_attribute(PANEL, "data-step") in (None, "")  # nothing was drawn
    page.keyboard.press("Tab")  # (focus leaves somewhere; reopen from the keyboard)
    toggle.focus()
    page.keyboard.press("Space")
    assert toggle.get_attribute("aria-expanded") == "true"
    page.wait_for_function(f"() => document.querySelector('{PANEL}').dataset.step === '200'")
    # Every control of the panel has a label.
    unlabelled = page.evaluate(
        """sel => [...document.querySelectorAll(sel + ' input, ' + sel + ' select')]
            .filter(e => !e.labels || e.labels.length === 0).map(e => e.id || e.name)""",
        PANEL,
    )
    assert unlabelled == []


def test_the_panel_on_a_phone(page, site, screenshots):
    page.set_viewport_size({"width": 375, "height": 800})
    open_playground(page, site, "?steps=150")
    toggle = page.locator("[data-testid=insides-toggle]")
    assert toggle.get_attribute("aria-expanded") == "false"  # closed by default: no room
    toggle.click()
    page.click("[data-testid=train-toggle]")
    page.wait_for_selector("[data-testid=status][data-state=done]", timeout=60_000)
    page.wait_for_function(f"() => document.querySelector('{PANEL}').dataset.step === '150'")
    assert_views_keep_their_place(page)
    # The panel adds no sideways scrolling: it fits, and so does everything in it
    # (heatmaps too wide for a phone would scroll inside their own box).
    open_width = page.evaluate("document.documentElement.scrollWidth")
    toggle.click()
    assert page.evaluate("document.documentElement.scrollWidth") == open_width
    toggle.click()
    wider = page.eval_on_selector(
        PANEL,
        """panel => [panel, ...panel.querySelectorAll('*')]
            .filter(e => !e.closest('#insides-heatmaps > *'))
            .filter(e => e.getBoundingClientRect().right > innerWidth + 0.5)
            .map(e => e.id || e.className || e.tagName)""",
    )
    assert wider == [], f"wider than the phone: {wider}"
    # Of the whole page, cut to the panel: the panel is taller than the phone's window.
    box = page.locator(PANEL).bounding_box()
    scroll = page.evaluate("scrollY")
    page.screenshot(path=str(screenshots / "insides-phone.png"), full_page=True,
                    clip={**box, "y": box["y"] + scroll})


def test_a_model_file_shows_its_insides(page, site, tmp_path):
    trainer = Trainer("anna\nbob\ncarl\nhanna\n", n_embd=8, n_head=2, n_layer=2, block_size=8,
                      steps=20, seed=3)
    for _ in range(20):
        trainer.step()
    model = tmp_path / "model.json"
    model.write_text(dumps(trainer))
    open_playground(page, site)
    page.set_input_files("[data-testid=open-model-file]", str(model))
    page.wait_for_function(f"() => document.querySelector('{PANEL}').dataset.step === 'loaded'")
    drawn = points(page)
    assert sorted(drawn) == sorted(["↵", "a", "b", "c", "h", "l", "n", "o", "r"])
    assert all(len(xy) == 2 for xy in drawn.values())
    assert page.locator(f"{PANEL} table.heatmap").count() == 2 * 2  # layers x heads
    assert "layer 2, head 2" in page.text_content(f"{PANEL} #insides-heatmaps")
    name = page.input_value("[data-testid=probe-name]")
    assert name == trainer.sample(1, temperature=0.5, seed=0)[0]
    shown = bars(page)
    expected = trainer.next_token_probs("", 0.5)[: len(shown)]
    assert [b[0] for b in shown] == [c or "↵" for c, _ in expected]
    assert "opened" in page.text_content("#insides-status")
