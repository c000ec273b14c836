"""Better names in a minute, in real Chromium: recipes fill the form and the link (written
in JavaScript exactly as Python writes it), live names appear and change while a run
trains (with no long task), earlier runs stay beside the current one (and survive a
reload) until forgotten; and the form is the settings table's."""

import json

import pytest
from browsing import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from longtasks import assert_no_long_tasks, start_long_task_check
from pageutil import idb_all, open_playground, py_call, wait_steps

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


@pytest.mark.timed
def test_live_names_appear_and_change_while_training_with_no_long_task(page, site):
    open_playground(page, site, "?steps=3000&seed=2")
    start_long_task_check(page)
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
    wait_steps(page, 600)
    assert_no_long_tasks(page, "while training with live names")
    # Names per second beside steps per second.
    assert page.text_content("[data-testid=names-per-second]") != "–"


def train_to_the_end(page):
    page.click("[data-testid=train-toggle]")
    page.wait_for_selector("[data-testid=status][data-state=done]", timeout=60_000)


def new_run_with(page, name, value):
    """After a finished run: New run (confirmed), one setting changed, trained to the end."""
    page.click("[data-testid=reset]")
    page.click("[data-testid=reset]")
    page.fill(f"#set-{name}", value)
    page.dispatch_event(f"#set-{name}", "input")
    train_to_the_end(page)


def test_two_runs_side_by_side_survive_a_reload_and_can_be_forgotten(page, site):
    open_playground(page, site, "?steps=120&seed=1")
    train_to_the_end(page)
    new_run_with(page, "lr", "0.02")
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


# --- the run link: written in JavaScript, exactly as Python writes it ---------------------
COMPARE_QUERIES = """async (cases) => {
    const { runQuery } = await import('./app/settings.js');
    return cases.map(([settings, recipe, dataset]) => {
        const python = JSON.parse(window.tinygptCall('settings_query',
            JSON.stringify({ settings, recipe, dataset })));
        return [runQuery(settings, recipe, dataset), python.ok ?? python];
    });
}"""
RUN_URL_KEYS = [s["name"] for s in SCHEMA["settings"] if s["group"] == "run" and s["url"]]
DATASETS = [None, "first_names", "pokemon", "a b&c=d"]


def compare_queries(page, cases):
    """The page's query for each (settings, recipe, dataset) and Python's settings_query
    for the same values sent as the page sends them (JSON.stringify)."""
    return page.evaluate(COMPARE_QUERIES, cases)


def test_the_run_link_is_written_in_javascript_as_python_writes_it(page, site):
    open_playground(page, site)
    defaults = {s["name"]: s["default"] for s in SCHEMA["settings"] if s["group"] == "run"}
    small = {"lr": 1e-05, "beta1": 5e-05, "val_fraction": 0.0001, "eps": 1e-07}
    cases = [
        [{**defaults, "lr": 0.007, "beta2": 0.999}, "microgpt", None],
        [{**RECIPES["five-minutes"]["settings"]}, "five-minutes", "first_names"],
        [{**RECIPES["five-minutes"]["settings"], "lr": 0.01, "beta2": 0.99}, "one-minute", None],
        [{**defaults, **small}, "microgpt", None],
        [{**defaults, "steps": 3000, "seed": 2**32 - 1, "engine": "scalar", "n_embd": 32},
         "one-minute", "pokemon"],
        [{**defaults, "lr": 1.0, "beta1": 0.0, "steps": 1e21, "seed": 1.5e300}, "microgpt", None],
        [{**defaults, "lr": -0.0, "steps": "12a", "seed": None, "batch": True}, "microgpt",
         "a b&c=d"],
    ]
    for got, python in compare_queries(page, cases):
        assert got == python
    # What the address bar says after typing is Python's query too.
    page.fill("#set-lr", "0.007")
    page.dispatch_event("#set-lr", "input")
    page.fill("#set-beta2", "0.999")
    page.dispatch_event("#set-beta2", "input")
    expect = py_call(page, "settings_query", settings={**defaults, "lr": 0.007, "beta2": 0.999},
                     recipe="microgpt", dataset="first_names")
    assert query(page) == "?" + "&".join(f"{k}={v}" for k, v in expect)
    assert expect == [["lr", "0.007"], ["beta2", "0.999"], ["dataset", "first_names"]]


finite = st.floats(allow_nan=False, allow_infinity=False)
setting_values = st.one_of(
    st.integers(-(2**60), 2**60), finite, st.floats(), st.floats(1e-9, 1e-3),
    st.sampled_from([0.007, 0.999, 0.0001, 1e-05, 1e16, 1e21, 2.5e-7]),
    st.text(max_size=12), st.none(), st.booleans(),
)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_run_links_match_python(page, site, data):
    if page.url == "about:blank":
        open_playground(page, site)
    cases = data.draw(st.lists(st.tuples(
        st.dictionaries(st.sampled_from(RUN_URL_KEYS), setting_values),
        st.sampled_from(sorted(RECIPES)),
        st.sampled_from(DATASETS),
    ).map(list), min_size=1, max_size=8))
    for (settings_, _, _), (got, python) in zip(cases, compare_queries(page, cases)):
        assert got == python, settings_


# --- "the loss": Python's, everywhere, and labelled ------------------------------------------
def test_the_loss_shown_and_kept_is_pythons_headline_loss(page, site):
    open_playground(page, site, "?steps=150&seed=3")
    train_to_the_end(page)
    info = py_call(page, "info")
    # No names held out: the mean of the last 100 training losses, said so.
    assert abs(info["loss"] - sum(info["losses"][-100:]) / 100) < 1e-12
    assert page.text_content("[data-testid=loss-label]") == "Loss (mean of the last 100 steps)"
    assert page.text_content("[data-testid=loss-value]") == f"{info['loss']:.4f}"
    assert page.text_content("[data-testid=val-loss-value]") == "–"
    page.wait_for_function("() => document.querySelectorAll('[data-testid=run-row]').length === 1")
    assert page.locator("[data-testid=run-row] td").nth(2).text_content() == (
        f"{info['loss']:.3f} (training)")
    # The chart says what its curves are: each step's loss and a moving average of it.
    legend = page.locator("#loss-chart .u-legend").text_content()
    assert "moving average" in legend and "smoothed" not in legend
    # Names held out: the newest validation loss, said so, in the readout, the table and
    # the stored summary.
    new_run_with(page, "val_fraction", "0.1")
    info = py_call(page, "info")
    assert info["loss"] == info["val_points"][-1][1] and info["val_points"][-1][0] == 150
    assert page.text_content("[data-testid=loss-label]") == "Loss (held-out names, newest)"
    assert page.text_content("[data-testid=loss-value]") == f"{info['loss']:.4f}"
    # (The row comes when the run starts and is written again when it ends: wait for that.)
    want = f"{info['loss']:.3f} (held out)"
    page.wait_for_function(
        """want => { const rows = document.querySelectorAll('[data-testid=run-row]');
            return rows.length === 2
                && rows[0].querySelectorAll('td')[2].textContent === want; }""",
        arg=want, timeout=15_000)
    assert page.locator("[data-testid=run-row]").first.locator("td").nth(2).text_content() == want
    stored = {row["settings"]["val_fraction"]: row for row in idb_all(page, "history")}
    assert stored[0.1]["loss"] == info["loss"] and stored[0.1]["lossKind"] == "validation"
    assert stored[0.0]["lossKind"] == "training"
