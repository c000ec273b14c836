"""The exercises in real Chromium: answers typed into the editor as a learner types them,
a wrong one (with its typical mistake's hint) and a right one, the hint, Show a solution
and Back to my code, Stop on an endless check, progress and code kept across a reload,
Train with my code ending in `match`, no long task on the page while checking or
training (the work is in the cells' worker), and screenshots at 1200 px and 375 px.

One page is shared by the tests of this module (Pyodide starts once), so they run in file
order and each leaves the page usable.
"""

import itertools
import json
import re
import sys

import pytest
from browsing import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from longtasks import assert_no_long_tasks, start_long_task_check
from pageutil import open_lessons, show_lesson

sys.path.insert(0, str(ROOT / "py"))
from tinygpt.exercises import EXERCISES  # noqa: E402 - the package the page checks with

IDS = list(EXERCISES)
RIGHT_SOFTMAX = [  # typed line by line: the editor indents the lines of the body itself
    "max_val = max(val.data for val in logits)",
    "exps = [(val - max_val).exp() for val in logits]",
    "total = sum(exps)",
    "return [e / total for e in exps]",
]


@pytest.fixture(scope="module")
def lessons(timed_context, site):  # for the tests that measure time (conftest.browser)
    page = timed_context.clean_page()
    open_lessons(page, site, "autograd", timeout=90_000)
    yield page
    timed_context.close_pages()
    page.watch.assert_clean()


def exercise(page, exercise_id):
    return page.locator(f"[data-testid=exercise][data-exercise={exercise_id}]")


def code_of(box):
    return box.evaluate("el => el.editor.state.doc.toString()")


def replace_last_line(page, box, lines):
    """Select the editor's last line (the stub's `...`, the indentation left out) and type
    `lines` of the function's body in its place, key by key, as a learner would: Escape
    closes a completion before each Enter, and each new line's indentation is typed over
    whatever the editor guessed."""
    box.locator(".cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.press("Shift+Home")
    for i, line in enumerate(lines):
        if i:
            page.keyboard.press("Escape")
            page.keyboard.press("Enter")
            page.keyboard.press("Shift+Home")
            line = "    " + line
        page.keyboard.type(line)


def paste(page, box, code):
    box.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(code)


def check(page, box, timeout=60_000, timed=True):
    """Press Check and wait for a new result; returns it. No long task on the page
    meanwhile (the check runs in the worker), unless `timed` is False (a test that
    measures no time)."""
    box.locator("[data-testid=exercise-result]").evaluate("el => { delete el.dataset.state; }")
    if timed:
        start_long_task_check(page)
    box.locator("[data-testid=exercise-check]").click()
    result = box.locator("[data-testid=exercise-result]")
    page.wait_for_function("el => el.dataset.state", arg=result.element_handle(), timeout=timeout)
    if timed:
        assert_no_long_tasks(page, f"while checking {box.get_attribute('data-exercise')}")
    return result


@pytest.mark.timed
def test_a_wrong_answer_then_a_right_one_typed_in_the_editor(lessons, site):
    page = lessons
    box = exercise(page, "softmax")
    box.scroll_into_view_if_needed()
    assert code_of(box).rstrip().endswith("...")
    # wrong: the probabilities are the scores themselves
    replace_last_line(page, box, ["return logits"])
    result = check(page, box)
    assert result.get_attribute("data-state") == "fail"
    text = result.text_content()
    assert "softmax([1.0, 2.0, 3.0]) should give [0.0900306, 0.244728, 0.665241]" in text
    assert "yours gives [1.0, 2.0, 3.0]" in text
    assert box.get_attribute("data-state") == "failed"
    # right: the package's way, typed
    replace_last_line(page, box, RIGHT_SOFTMAX)
    assert code_of(box).rstrip().endswith("    return [e / total for e in exps]")
    result = check(page, box)
    assert result.get_attribute("data-state") == "pass", result.text_content()
    assert result.text_content().startswith("Passed: all 13 cases give TinyGPT's results")


@pytest.mark.timed
def test_a_typical_mistake_gets_its_hint(lessons, site, screenshots):
    page = lessons
    box = exercise(page, "backward")
    box.scroll_into_view_if_needed()
    # the solution with `=` where the chain rule adds: a value used twice loses a use
    code = EXERCISES["backward"].solution.replace("child.grad += local_grad * v.grad",
                                                  "child.grad = local_grad * v.grad")
    paste(page, box, code)
    result = check(page, box)
    assert result.get_attribute("data-state") == "fail"
    assert result.get_attribute("data-mistake") == "assign-instead-of-add"
    assert "a.grad should be -2.0" in result.text_content()
    assert "add to child.grad (+=) instead of overwriting it (=)" in result.text_content()
    result.screenshot(path=str(screenshots / "exercise-backward-mistake.png"))


@pytest.mark.timed
def test_the_hint_and_show_a_solution(lessons, site, screenshots):
    page = lessons
    box = exercise(page, "backward")
    hint = box.locator("[data-testid=exercise-hint]")
    assert not hint.locator("p").is_visible()
    hint.locator("summary").click()
    assert "a child used twice gains from both uses" in hint.locator("p").text_content()
    assert hint.locator("p").is_visible()
    mine = code_of(box)
    solution_button = box.locator("[data-testid=exercise-solution]")
    assert solution_button.is_visible()  # after the failed check
    solution_button.click()
    page.wait_for_function("el => el.editor.state.doc.toString().includes('child.grad +=')",
                           arg=box.element_handle())
    assert code_of(box) == EXERCISES["backward"].solution
    assert check(page, box).get_attribute("data-state") == "pass"
    box.locator("[data-testid=exercise-mine]").click()
    assert code_of(box) == mine  # the learner's code is back
    # and the result says it is the checked code's, not this one's
    assert box.locator("[data-testid=exercise-result]").get_attribute("data-stale") == "true"
    box.screenshot(path=str(screenshots / "exercise-backward-hint.png"))
    box.locator("[data-testid=exercise-solution]").click()  # and the solution again
    page.wait_for_function("el => el.editor.state.doc.toString().includes('child.grad +=')",
                           arg=box.element_handle())


@pytest.mark.timed
def test_stop_ends_an_endless_check_and_checking_goes_on(lessons, site):
    page = lessons
    box = exercise(page, "softmax")
    solved = code_of(box)
    paste(page, box, "def softmax(logits):\n    while True:\n        pass\n")
    box.locator("[data-testid=exercise-check]").click()
    stop = box.locator("[data-testid=exercise-stop]")
    stop.wait_for(state="visible")
    page.wait_for_timeout(500)
    stop.click()
    page.wait_for_function(
        "el => el.querySelector('[data-testid=exercise-state]').textContent.startsWith('Stopped')",
        arg=box.element_handle())
    paste(page, box, solved)
    assert check(page, box, timeout=90_000).get_attribute("data-state") == "pass"


@pytest.mark.timed
def test_progress_and_code_are_kept_across_a_reload(lessons, site):
    page = lessons
    show_lesson(page, site, "tokens")
    box = exercise(page, "encode")
    assert check(page, box).get_attribute("data-state") == "fail"  # the stub
    page.reload()
    show_lesson(page, site, "start")
    states = page.eval_on_selector_all(
        ".exercise-progress [data-exercise]",
        "els => els.map(e => [e.dataset.exercise, e.dataset.state])")
    assert dict(states) == {"encode": "failed", "backward": "passed", "softmax": "passed",
                            "attention-head": "new", "loss": "new", "adam": "new",
                            "sample": "new"}
    assert list(dict(states)) == IDS  # under their lessons, in order
    assert "You have passed 2 of 7 exercises." in page.text_content("#progress-summary")
    show_lesson(page, site, "autograd")
    page.wait_for_selector("[data-testid=python-status][data-state=ready]", timeout=90_000)
    # the code too: the softmax typed, the backward solution shown over the learner's code
    assert code_of(exercise(page, "softmax")).rstrip().endswith("return [e / total for e in exps]")
    assert code_of(exercise(page, "backward")) == EXERCISES["backward"].solution
    assert exercise(page, "backward").locator("[data-testid=exercise-mine]").is_visible()


@pytest.mark.timed
def test_train_with_my_code_ends_in_match(lessons, site, screenshots):
    page = lessons
    show_lesson(page, site, "build")
    page.wait_for_selector("[data-testid=python-status][data-state=ready]", timeout=90_000)
    # the lesson's own figure starts as the lesson shows: its work is not the run's
    page.wait_for_selector("#fig-overfit[data-ready=true]", timeout=90_000)
    pieces = page.locator("[data-testid=exercise-train-pieces] li")
    assert pieces.count() == 7
    whose = dict(page.eval_on_selector_all(
        "[data-testid=exercise-train-pieces] li", "els => els.map(e => [e.dataset.exercise,"
        " e.dataset.whose])"))
    assert whose["softmax"] == whose["backward"] == "yours" and whose["encode"] == "tinygpt"
    start_long_task_check(page)
    page.click("[data-testid=exercise-train]")
    page.wait_for_function(
        "() => /^Step [0-9]+ of 30/.test(document.querySelector("
        "'[data-testid=exercise-train-progress]').textContent)", timeout=120_000)
    result = page.locator("[data-testid=exercise-train-result]")
    page.wait_for_function("el => el.dataset.state", arg=result.element_handle(), timeout=240_000)
    assert_no_long_tasks(page, "while training with the learner's code")
    assert result.get_attribute("data-state") == "match", result.text_content()
    assert result.text_content().startswith(
        "Your pieces give the same losses as TinyGPT to 1e-12 over 30 steps")
    assert "TinyGPT's own stood in for: encode, attention-head, loss, adam, sample" in (
        result.text_content())
    assert page.locator("[data-testid=exercise-train-chart] polyline").count() == 2
    assert page.locator("[data-testid=exercise-train-names] li").count() == 5
    assert "the same as TinyGPT's run writes" in page.text_content(
        "[data-testid=exercise-train-names-message]")
    page.locator("#train-mine").screenshot(path=str(screenshots / "exercise-train.png"))


@pytest.mark.parametrize("width", [1200, 375])
def test_screenshots_of_every_exercise(page, site, screenshots, width):
    """Each exercise after a failed check with its hint open, on a wide screen and a phone,
    none wider than the screen. (Long tasks while checking are the timed tests' above.)"""
    page.set_viewport_size({"width": width, "height": 900})
    open_lessons(page, site, "tokens", timeout=90_000)
    for ex in EXERCISES.values():
        show_lesson(page, site, ex.lesson)
        box = exercise(page, ex.id)
        box.scroll_into_view_if_needed()
        check(page, box, timed=False)  # the stub: a failed check, its message, the solution button
        box.locator("[data-testid=exercise-hint] summary").click()
        overflow = page.evaluate("() => document.documentElement.scrollWidth")
        assert overflow <= width, f"{ex.id}: the page is {overflow} px wide at {width} px"
        box.screenshot(path=str(screenshots / f"exercise-{ex.id}-{width}.png"))


# What the page reads back from localStorage is untrusted: an older page's, or edited.
PROGRESS_KEY, CODE_KEY = "tinygpt-lessons-progress", "tinygpt-exercise-code"
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6)
    | st.sampled_from(["passed", "failed", "new", "__proto__", "softmax", "constructor"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(IDS + ["exercises", "code", "mine", "__proto__", "visited", "x"]),
        inner, max_size=4),
    max_leaves=10,
)
KEYS = st.sampled_from(IDS + ["__proto__", "constructor", "x"])
LESSON_IDS = sorted({ex.lesson for ex in EXERCISES.values()})
# Every name the fuzz asks the reader about.
ASKED = IDS + LESSON_IDS + ["__proto__", "constructor", "x"]


def planted(shape):
    """Text, any JSON, and half the time the shape the key holds with anything in it."""
    return st.one_of(st.text(max_size=30), JSON_VALUES.map(json.dumps), shape.map(json.dumps),
                     shape.map(json.dumps))


LISTED = st.lists(st.sampled_from(ASKED) | JSON_VALUES, max_size=3) | JSON_VALUES
PROGRESS = planted(st.fixed_dictionaries({}, optional={
    "exercises": st.dictionaries(KEYS, st.sampled_from(["failed", "passed"]) | JSON_VALUES,
                                 min_size=1, max_size=4),
    "visited": LISTED,
    "completed": LISTED,
}))
CODE = planted(st.dictionaries(KEYS, st.fixed_dictionaries(
    {}, optional={"code": st.text(max_size=6) | JSON_VALUES, "mine": JSON_VALUES}),
    min_size=1, max_size=4))
EXERCISE_ID = re.compile(r"[a-z][a-z0-9-]{0,39}")


def expected_reading(progress_text, code_text, ids):
    """What app/lessons/progress.js must make of the two stored texts, by its rules: a
    text that is not a JSON object is nothing; a lesson is completed or visited if its
    name is in that list; an exercise keeps a state only if it is "failed" or "passed",
    and code only if it is text ("mine" only if it is text too); names are exercise ids.
    Answers [exerciseState, status, savedCode] for each of `ids`."""
    def stored(text):
        def not_json(constant):  # NaN and Infinity: JSON.parse refuses them
            raise ValueError(constant)
        try:
            value = json.loads(text or "{}", parse_constant=not_json)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    progress, code = stored(progress_text), stored(code_text)

    def listed(key):
        value = progress.get(key)
        return {x for x in value if isinstance(x, str)} if isinstance(value, list) else set()

    states = progress.get("exercises") if isinstance(progress.get("exercises"), dict) else {}
    answers = []
    for name in ids:
        known = EXERCISE_ID.fullmatch(name) is not None
        state = states.get(name) if known and states.get(name) in ("failed", "passed") else "new"
        status = ("completed" if name in listed("completed")
                  else "visited" if name in listed("visited") else "new")
        entry, saved = code.get(name), None
        if known and isinstance(entry, dict) and isinstance(entry.get("code"), str):
            mine = entry.get("mine")
            saved = {"code": entry["code"], "mine": mine if isinstance(mine, str) else None}
        answers.append([state, status, saved])
    return answers


# progress.js reads storage as it is imported: a fresh copy of the module (its own URL)
# reads what was just planted, as a page started on it would.
READ_FRESH = """async ([n, ids]) => {
    const read = await import(`./app/lessons/progress.js?planted=${n}`);
    return ids.map((id) => [read.exerciseState(id), read.status(id), read.savedCode(id)]);
}"""


def test_saved_progress_and_code_are_checked_when_read(page, site):
    def store(progress, code):
        page.evaluate("([k1, v1, k2, v2]) => { localStorage.setItem(k1, v1); "
                      "localStorage.setItem(k2, v2); }", [PROGRESS_KEY, progress, CODE_KEY, code])

    def plant(progress, code):
        store(progress, code)
        page.reload()
        page.wait_for_selector("[data-view=start]:not([hidden])")

    def shown_states():
        return dict(page.eval_on_selector_all(
            ".exercise-progress [data-exercise]",
            "els => els.map(e => [e.dataset.exercise, e.dataset.state])"))

    fresh = itertools.count()  # a new URL for each example's module

    @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
    @given(PROGRESS, CODE)
    def anything(progress, code):
        store(progress, code)
        read = page.evaluate(READ_FRESH, [next(fresh), ASKED])
        for exercise_state, lesson_status, saved in read:
            assert exercise_state in {"new", "failed", "passed"}
            assert lesson_status in {"new", "visited", "completed"}
            assert saved is None or (set(saved) == {"code", "mine"}
                                     and isinstance(saved["code"], str)
                                     and (saved["mine"] is None or isinstance(saved["mine"], str)))
        assert read == expected_reading(progress, code, ASKED)  # what fits is kept, exactly

    page.goto(site + "lessons.html#start")
    anything()
    # and the page started on what is not even an object shows every exercise, as new
    plant("[1, 2]", '"just text"')
    assert set(shown_states().values()) == {"new"} and len(shown_states()) == 7
    # what fits is kept, what does not is dropped
    plant(json.dumps({"exercises": {"softmax": "passed", "encode": 5, "adam": "won"}}),
          json.dumps({"softmax": {"code": "print('mine')", "mine": 3}, "loss": {"code": 7}}))
    states = shown_states()
    assert states["softmax"] == "passed" and states["encode"] == states["adam"] == "new"
    show_lesson(page, site, "autograd")
    assert code_of(exercise(page, "softmax")) == "print('mine')"
    assert exercise(page, "softmax").locator("[data-testid=exercise-mine]").is_hidden()
    show_lesson(page, site, "training")
    assert code_of(exercise(page, "loss")).rstrip().endswith("...")  # the stub
