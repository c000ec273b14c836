"""Helpers the browser tests share (import as `from pageutil import ...`)."""

import json


def open_playground(page, site, query="", timeout=30_000):
    page.goto(site + query)
    page.wait_for_selector("[data-testid=status][data-state=ready]", timeout=timeout)


def wait_restored(page, timeout=30_000):
    """Wait until the playground's start-up restore is over; "run" if a saved run came
    back, "none" if there was none to restore (or it stayed in another tab)."""
    page.wait_for_selector("[data-testid=status][data-restored]", timeout=timeout)
    return page.get_attribute("[data-testid=status]", "data-restored")


def wait_saved(page, step, timeout=30_000):
    """Wait until the run is saved at `step` or later (the storage status says which step
    the last save holds). A paused run's save comes to rest at its step; a training one
    saves now and then, so no exact step is sure to be seen."""
    page.wait_for_function(
        "n => +document.querySelector('[data-testid=storage-status]').dataset.step >= n",
        arg=step, timeout=timeout,
    )


def state(page):
    return page.get_attribute("[data-testid=status]", "data-state")


def steps_done(page):
    return int(page.text_content("[data-testid=step-count]"))


def wait_steps(page, n, timeout=60_000):
    page.wait_for_function(
        "n => +document.querySelector('[data-testid=step-count]').textContent >= n",
        arg=n,
        timeout=timeout,
    )


def py_call(page, name, **args):
    """Call the page's Python bridge directly (for reading state the UI summarises)."""
    answer = page.evaluate(
        "([name, args]) => JSON.parse(window.tinygptCall(name, args))", [name, json.dumps(args)]
    )
    assert "ok" in answer, answer
    return answer["ok"]


def set_text(page, selector, text):
    """Set a big text like a paste would (Playwright's fill() stalls on large texts)."""
    page.eval_on_selector(
        selector,
        """(el, text) => { el.value = text;
            el.dispatchEvent(new Event('input', {bubbles: true}));
            el.dispatchEvent(new Event('change', {bubbles: true})); }""",
        text,
    )


def error_text(page):
    box = page.locator("[data-testid=error]")
    return box.text_content() if box.is_visible() else ""


def wait_error(page, words, timeout=10_000):
    """The error box's text once it says `words` (a new run's errors come a task or two
    after the click: the run is built in short tasks)."""
    page.wait_for_function(
        "w => { const box = document.querySelector('[data-testid=error]');"
        " return box && box.offsetParent !== null"
        " && box.textContent.toLowerCase().includes(w); }",
        arg=words.lower(), timeout=timeout,
    )
    return error_text(page)



def generate_names(page, timeout=60_000):
    """Press Generate and wait for the names: Python makes them a letter at a time in
    short tasks, so they arrive a moment after the click."""
    page.click("[data-testid=generate]")
    page.wait_for_selector("[data-testid=samples][data-state=done]", timeout=timeout)
    return page.locator("[data-testid=sample]").all_text_contents()


# The page works in tasks of about 20 ms (app/loop.js), so none should be long (over
# 50 ms). But on a loaded two-core machine (the browser, the server and pytest share two
# cores, and another browser may run beside them) the system now and then stops the
# page's process mid-task, which stretches a short task past 50 ms. Work that is not split
# into short pieces is long every time it runs: many long tasks. So a check allows
# STRAY_LONG_TASKS and none over FREEZE_MS (the delay at which a user sees the page hang),
# and a failing check asks whether the machine itself stalled: start_long_task_check
# starts a probe in the page, a worker whose 10 ms timer runs on its own thread, which the
# page's tasks cannot delay, and records when it was late (a stall of the process, not of
# the page's code). A long task whose excess over 50 ms the probe's stalls cover was not
# the page's doing: the check then raises MachineStalled, and the test is run once more
# (pytest-rerunfailures, marked in conftest.py), saying why.
# How long each piece of work may be is tested exactly in the unit tests (tests/py:
# budgets, build_run); the benchmark (scripts/bench_browser.py) counts long tasks.
STRAY_LONG_TASKS = 2
FREEZE_MS = 100
LONG_TASK_MS = 50

# The probe: a blob: worker (the pages' CSP allows them) posting each late tick of its
# timer as [start, end] in the page's clock (performance.timeOrigin apart).
_START_PROBE = """() => {
    window.__longTasks.length = 0;
    window.__stalls = [];
    if (window.__probe) return;
    const source = `const t0 = performance.timeOrigin;
        let last = performance.now();
        setInterval(() => {
            const now = performance.now();
            if (now - last > 30) postMessage([t0 + last, t0 + now]);
            last = now;
        }, 10);`;
    const code = new Blob([source], { type: "text/javascript" });
    window.__probe = new Worker(URL.createObjectURL(code));
    window.__probe.onmessage = (e) =>
        window.__stalls.push(e.data.map((t) => t - performance.timeOrigin));
}"""


class MachineStalled(AssertionError):
    """A long-task check failed only because the machine stopped the page's process."""


# Whether the running test may measure the page's time. A test that does is marked
# `@pytest.mark.timed` and runs alone (scripts/run_tests.sh runs the other browser tests on
# every core first, then these one at a time): beside another browser, a long-task check
# measures that browser. conftest.py sets this from the mark, so a check in an unmarked
# test fails at once instead of now and then.
timing_allowed = True


def start_long_task_check(page):
    """Forget the page's long tasks so far, and probe the machine from now on."""
    assert timing_allowed, ("this test checks long tasks: mark it @pytest.mark.timed, so"
                            " that it never runs beside another test")
    page.evaluate(_START_PROBE)


def machine_explains(task, stalls):
    """Whether the probe's stalls cover a long task's excess over LONG_TASK_MS: without
    the time the machine was stopped, it would not have been long. `task` is
    (start, duration) and `stalls` [(start, end)], in ms of the page's clock."""
    start, duration = task
    end = start + duration
    covered, reach = 0.0, start
    for a, b in sorted(stalls):
        a, b = max(a, reach), min(b, end)
        if b > a:
            covered += b - a
            reach = b
    return duration - covered <= LONG_TASK_MS


def judge_long_tasks(tasks, stalls):
    """None if the long tasks pass (at most a stray one or two, none a freeze); else
    "page" if the page's own work made them, "machine" if every task beyond what passes
    is explained by the machine's stalls (machine_explains)."""
    frozen = [t for t in tasks if t[1] > FREEZE_MS]
    if not frozen and len(tasks) <= STRAY_LONG_TASKS:
        return None
    unexplained = [t for t in tasks if not machine_explains(t, stalls)]
    ok = not [t for t in unexplained if t[1] > FREEZE_MS] and len(unexplained) <= STRAY_LONG_TASKS
    return "machine" if ok else "page"


def assert_no_long_tasks(page, what):
    """The page's long tasks since start_long_task_check: at most a stray one or two, none
    a freeze; MachineStalled when they are the machine's doing (the test re-runs once)."""
    found = page.evaluate("[window.__longTasks, window.__stalls || []]")
    tasks = [(t["start"], t["duration"]) for t in found[0]]
    stalls = [tuple(s) for s in found[1]]
    shown = [round(d) for _, d in tasks]
    if shown:
        print(f"long tasks {what}: {shown} ms")
    verdict = judge_long_tasks(tasks, stalls)
    if verdict == "machine":
        raise MachineStalled(
            f"long tasks {what}: {shown} ms, while the machine stalled (a worker's timer"
            f" stopped for {[round(b - a) for a, b in stalls]} ms): not the page's doing,"
            " running the test again")
    assert verdict is None, f"long tasks {what}: {shown} ms"


# The page's database read and written directly, as any script of the site could (a
# lesson cell, another tab): for planting records and checking what is stored.
_IDB = """async ([store, action, value]) => {
    const db = await new Promise((ok, no) => {
        const r = indexedDB.open('tinygpt'); r.onsuccess = () => ok(r.result); r.onerror = no; });
    try {
        const tx = db.transaction(store, action === 'put' ? 'readwrite' : 'readonly');
        const s = tx.objectStore(store);
        const q = action === 'put' ? s.put(value) : action === 'count' ? s.count() : s.getAll();
        return await new Promise((ok, no) => { q.onsuccess = () => ok(q.result); q.onerror = no; });
    } finally { db.close(); }
}"""


def idb_put(page, store, record):
    """Writes `record` into the page's database store `store` (as it is: no checks)."""
    page.evaluate(_IDB, [store, "put", record])


def idb_all(page, store):
    """Every record of the store `store`, as stored."""
    return page.evaluate(_IDB, [store, "all", None])


def idb_count(page, store):
    return page.evaluate(_IDB, [store, "count", None])
