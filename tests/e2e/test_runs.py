"""Better names in a minute, in real Chromium: recipes fill the form and the link, live
names appear and change while a run trains (with no long task), earlier runs stay beside
the current one (and survive a reload) until forgotten; and the form is the settings
table's."""

import json

from browsing import ROOT
from pageutil import assert_no_long_tasks, open_playground, py_call, wait_steps

SCHEMA = json.loads((ROOT / "dist" / "schema.json").read_text())
RECIPES = {r["name"]: r for r in SCHEMA["recipes"]}


def field(page, name):
    return page.input_value(f"#set-{name}")


def query(page):
    return page.evaluate("location.search")


def test_the_form_is_the_settings_table(page, site):
    open_playground(page, site)
    for s in SCHEMA["settings"]:
        if not s["form"]:
            continue
        selector = f"#set-{s['name']}" if s["group"] == "run" else {
            "n": "#gen-n", "temperature": "#temperature", "prefix": "#gen-prefix",
            "sample_seed": "#gen-seed"}[s["name"]]
        box = page.locator(selector)
        assert box.count() == 1, s["name"]
        label = page.locator(f"label[for='{selector[1:]}']").text_content()
        assert label == s["label"]
        if s["kind"] != "str":
            for bound in ("min", "max"):
                value = s["low" if bound == "min" else "high"]
                shown = box.get_attribute(bound)
                assert (shown is None) == (value is None) and (
                    value is None or float(shown) == value), (s["name"], bound)
    # One temperature range everywhere: the field's, Python's and the name card's.
    temperature = next(s for s in SCHEMA["settings"] if s["name"] == "temperature")
    card = page.evaluate("""async (t) => {
        const { validateCard } = await import('./app/namecard.js');
        const card = { v: 1, names: ['ann'], dataset: 'x', params: 100, steps: 1, loss: 2,
                       config: { n_embd: 16, n_head: 4, n_layer: 1, block_size: 16 } };
        const answer = (value) => { try { validateCard({ ...card, temperature: value });
            return 'ok'; } catch (e) { return e.message; } };
        return [answer(t.low), answer(t.high), answer(t.high * 1.01), answer(t.low / 2)];
    }""", temperature)
    assert card[:2] == ["ok", "ok"] and "temperature" in card[2] and "temperature" in card[3]
    assert py_call(page, "validate_generate", values={"temperature": temperature["high"]}) == {}
    assert "temperature" in py_call(page, "validate_generate",
                                    values={"temperature": temperature["high"] * 1.01})


def test_a_recipe_fills_the_form_and_the_link_says_the_recipe_and_the_changes(page, site):
    open_playground(page, site)
    page.select_option("[data-testid=recipe-select]", "one-minute")
    recipe = RECIPES["one-minute"]
    for name, value in recipe["settings"].items():
        if page.locator(f"#set-{name}").count():
            shown = field(page, name)
            assert float(shown) == float(value) if name != "engine" else shown == value, name
    assert recipe["expect"] in page.text_content("[data-testid=recipe-expect]")
    assert "recipe=one-minute" in query(page) and "steps=" not in query(page)
    page.fill("#set-lr", "0.004")
    page.dispatch_event("#set-lr", "input")
    assert "recipe=one-minute" in query(page) and "lr=0.004" in query(page)
    # The link reproduces it: the same recipe and change on a fresh load.
    open_playground(page, site, query(page))
    assert page.input_value("[data-testid=recipe-select]") == "one-minute"
    assert field(page, "lr") == "0.004"
    assert float(field(page, "steps")) == recipe["settings"]["steps"]
    # A recipe is a full set: five-minutes sets Adam's beta2, one-minute sets it back.
    page.select_option("[data-testid=recipe-select]", "five-minutes")
    assert float(field(page, "beta2")) == RECIPES["five-minutes"]["settings"]["beta2"] != 0.99
    assert "beta2=" not in query(page)  # the recipe says it
    page.select_option("[data-testid=recipe-select]", "one-minute")
    assert float(field(page, "beta2")) == 0.99 and float(field(page, "lr")) == 0.01


def test_a_link_to_an_unknown_recipe_is_explained(page, site):
    open_playground(page, site, "?recipe=ten-seconds")
    assert "ten-seconds" in page.text_content("[data-testid=error]")
    assert page.input_value("[data-testid=recipe-select]") == "microgpt"


def test_live_names_appear_and_change_while_training_with_no_long_task(page, site):
    open_playground(page, site, "?steps=3000&seed=2")
    page.evaluate("window.__longTasks.length = 0")
    page.click("[data-testid=train-toggle]")
    page.wait_for_selector("[data-testid=live-sample]", timeout=30_000)
    first = (page.text_content("#live-step"), page.locator("[data-testid=live-sample]")
             .all_text_contents())
    assert len(first[1]) == 4
    page.wait_for_function(
        "step => document.querySelector('#live-step').textContent !== step",
        arg=first[0], timeout=10_000,
    )
    later = (page.text_content("#live-step"), page.locator("[data-testid=live-sample]")
             .all_text_contents())
    assert later[0] != first[0]
    wait_steps(page, 1200)
    assert_no_long_tasks(page, "while training with live names")
    # Names per second beside steps per second.
    assert page.text_content("[data-testid=names-per-second]") != "–"


def test_two_runs_side_by_side_survive_a_reload_and_can_be_forgotten(page, site):
    open_playground(page, site, "?steps=120&seed=1")
    page.click("[data-testid=train-toggle]")
    page.wait_for_selector("[data-testid=status][data-state=done]", timeout=60_000)
    page.click("[data-testid=reset]")
    page.click("[data-testid=reset]")
    page.fill("#set-lr", "0.02")
    page.dispatch_event("#set-lr", "input")
    page.click("[data-testid=train-toggle]")
    page.wait_for_selector("[data-testid=status][data-state=done]", timeout=60_000)
    page.wait_for_function("() => document.querySelectorAll('[data-testid=run-row]').length === 2",
                           timeout=15_000)
    labels = page.locator("[data-testid=run-row] th").all_text_contents()
    assert labels == ["this run", "lr 0.01"]  # the earlier run, by what differs
    # The earlier run is drawn on the chart as faint curves.
    legend = page.locator("#loss-chart .u-legend").text_content()
    assert "lr 0.01 (train)" in legend and "lr 0.01 (validation)" in legend
    page.reload()
    page.wait_for_selector("[data-testid=status][data-state=done]", timeout=60_000)
    page.wait_for_function("() => document.querySelectorAll('[data-testid=run-row]').length === 2",
                           timeout=15_000)
    page.locator("[data-testid=run-row]").nth(1).locator("[data-testid=forget-run]").click()
    page.wait_for_function("() => document.querySelectorAll('[data-testid=run-row]').length === 1")
    page.reload()
    page.wait_for_selector("[data-testid=status][data-state=done]", timeout=60_000)
    page.wait_for_timeout(500)
    assert page.locator("[data-testid=run-row]").count() == 1
    assert py_call(page, "info")["settings"]["lr"] == 0.02
