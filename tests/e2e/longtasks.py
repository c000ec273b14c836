"""The long-task check of the browser tests marked `timed`: the page's work comes in short
tasks, so a visitor's page never hangs.

The page works in tasks of about 20 ms (app/loop.js), so none should be long (over 50 ms).
But on a loaded two-core machine (the browser, the server and pytest share two cores, and
the machine is a virtual one whose cores its host lends out) the system now and then
stops the page's main thread mid-task, which stretches a short task past 50 ms. Work that
is not split into short pieces is long every time it runs: many long tasks. So a check
allows STRAY_LONG_TASKS and none over FREEZE_MS (the delay at which a user sees the page
hang), and a failing check asks how much of each long task the page's main thread
actually ran: Chromium's trace (started with the check) records each task of the thread
with its wall time and its thread time, the processor time the thread got, which does
not count the time the system (or the machine's host) ran something else. A long task
whose thread ran at most LONG_TASK_MS of it was not the page's doing: the check then
raises MachineStalled, and the test is run once more (pytest-rerunfailures, marked in
conftest.py), saying why. Any other failure fails.

How long each piece of work may be is tested exactly in the unit tests (tests/py:
budgets, build_run); the benchmark (scripts/bench_browser.py) counts long tasks.
"""

import json
import math

from playwright.sync_api import Error as PlaywrightError

STRAY_LONG_TASKS = 2
FREEZE_MS = 100
LONG_TASK_MS = 50

# Whether the running test may measure the page's time. A test that does is marked
# `@pytest.mark.timed` and runs alone (scripts/run_tests.sh runs the other browser tests on
# every core first, then these one at a time): beside another browser, a long-task check
# measures that browser. conftest.py sets this from the mark, so a check in an unmarked
# test fails at once instead of now and then.
timing_allowed = True

# What the trace records: the main thread's tasks ("RunTask", with "dur" and "tdur": wall
# and thread time in µs) and the page's performance marks, whose trace event carries the
# page's clock beside the trace's, to place the page's long tasks in the trace.
TRACE_CATEGORIES = ["disabled-by-default-devtools.timeline", "blink.user_timing"]
MARK = "tinygpt-long-task-check"

_START = f"""() => {{
    window.__longTasks.length = 0;
    performance.clearMarks("{MARK}");
    performance.mark("{MARK}");
}}"""

_traced = None  # the browser whose trace a check has started and not yet read


class MachineStalled(AssertionError):
    """A long-task check failed only because the machine stopped the page's thread."""


def start_long_task_check(page):
    """Forget the page's long tasks so far, and trace its main thread from now on."""
    global _traced
    assert timing_allowed, ("this test checks long tasks: mark it @pytest.mark.timed, so"
                            " that it never runs beside another test")
    stop_trace()  # a check begun before and never ended (its test read the tasks itself)
    browser = page.context.browser
    browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
    _traced = browser
    page.evaluate(_START)


def stop_trace():
    """The trace's events since start_long_task_check ([] if no trace runs)."""
    global _traced
    browser, _traced = _traced, None
    if browser is None:
        return []
    try:
        data = json.loads(browser.stop_tracing())
    except PlaywrightError:  # the traced page was closed (its test failed mid-check)
        return []
    return data["traceEvents"] if isinstance(data, dict) else data


def thread_times(tasks, events):
    """Each long task as (start, duration, ran): `ran` the ms the page's main thread ran
    during it, from the trace's task that the long task is (None where the trace has no
    such task). `tasks` are the page's [(start, duration)] in ms of its clock."""
    marks = [e for e in events if e.get("name") == MARK]
    if not marks:
        return [(start, duration, None) for start, duration in tasks]
    mark = marks[-1]
    # The trace's clock (µs) at the page's time 0: the mark's trace time less its page time.
    zero = mark["ts"] - mark["args"]["data"]["startTime"] * 1000
    runs = [e for e in events if e.get("name") == "RunTask" and e.get("ph") == "X"
            and e.get("pid") == mark["pid"] and e.get("tid") == mark["tid"] and "tdur" in e]
    timed = []
    for start, duration in tasks:
        begin, end = zero + start * 1000, zero + (start + duration) * 1000

        def overlap(run, begin=begin, end=end):
            return min(end, run["ts"] + run["dur"]) - max(begin, run["ts"])

        # The thread's task that covers most of the long task, if it covers over half of
        # it (µs against ms: duration * 500 is half the duration in µs); else unknown.
        best = max(runs, key=overlap, default=None)
        ran = best["tdur"] / 1000 if best and overlap(best) > duration * 500 else None
        timed.append((start, duration, ran))
    return timed


def judge_long_tasks(tasks, stray=STRAY_LONG_TASKS):
    """None if the long tasks pass (at most `stray` of them, none a freeze); else "page"
    if the page's own work made them, "machine" if they pass once each is counted only for
    the time the page's thread ran in it. `tasks` are [(start, duration, ran)] in ms
    (thread_times; `ran` None counts the whole task as the page's)."""
    def fails(lengths):
        return any(d > FREEZE_MS for d in lengths) or len(lengths) > stray

    if not fails([d for _, d, _ in tasks]):
        return None
    own = [d if ran is None else ran for _, d, ran in tasks]
    return "page" if fails([d for d in own if d > LONG_TASK_MS]) else "machine"


def assert_no_long_tasks(page, what, stray=STRAY_LONG_TASKS):
    """The page's long tasks since start_long_task_check: at most `stray` of them, none a
    freeze; MachineStalled when they are the machine's doing (the test re-runs once)."""
    found = page.evaluate("window.__longTasks")
    tasks = thread_times([(t["start"], t["duration"]) for t in found], stop_trace())
    shown = [round(d) for _, d, _ in tasks]
    ran = ["?" if r is None else round(r) for _, _, r in tasks]
    if shown:
        print(f"long tasks {what}: {shown} ms, the page's thread running {ran} ms of them")
    verdict = judge_long_tasks(tasks, stray)
    if verdict == "machine":
        raise MachineStalled(
            f"long tasks {what}: {shown} ms, of which the page's thread ran only {ran} ms:"
            " the machine stopped it, not the page's doing; running the test again")
    assert verdict is None, f"long tasks {what}: {shown} ms (the page's thread ran {ran} ms)"


def assert_no_freeze(page, what):
    """As assert_no_long_tasks, but any number of long tasks (none over FREEZE_MS)."""
    assert_no_long_tasks(page, what, stray=math.inf)


def assert_took_at_most(page, span, limit_ms, what):
    """A piece of the page's work, (start, duration) in ms of its clock, measured in one
    task since start_long_task_check, took at most `limit_ms`; MachineStalled if it took
    longer only because the machine stopped the page's thread (as for a long task)."""
    [(_, took, ran)] = thread_times([span], stop_trace())
    if took <= limit_ms:
        return
    if ran is not None and ran <= limit_ms:
        raise MachineStalled(f"{what} took {took:.0f} ms, of which the page's thread ran only"
                             f" {ran:.0f} ms: the machine stopped it; running the test again")
    ran_text = "?" if ran is None else f"{ran:.0f}"
    raise AssertionError(f"{what} took {took:.0f} ms (the page's thread ran {ran_text} ms)")

