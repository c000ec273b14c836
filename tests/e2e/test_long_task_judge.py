"""The long-task check (longtasks.py): its judgement without a browser (a page whose own
task is long fails whatever the machine did; a short task stretched by the machine stopping
the page's thread only re-runs the test), the same for a piece of work with a time limit
(assert_took_at_most), then both in Chromium: a task the page's own code makes long is the
page's, and the same wall time with the page's process stopped by the system (SIGSTOP) is
the machine's."""

import json
import os
import re
import signal
import time
from pathlib import Path

import longtasks
import pytest
from hypothesis import given
from hypothesis import strategies as st
from longtasks import (
    FREEZE_MS,
    LONG_TASK_MS,
    MARK,
    STRAY_LONG_TASKS,
    assert_no_long_tasks,
    assert_took_at_most,
    judge_long_tasks,
    start_long_task_check,
    stop_trace,
    thread_times,
)


def test_no_long_task_passes():
    assert judge_long_tasks([]) is None


def test_a_stray_long_task_or_two_pass_whatever_their_thread_did():
    assert judge_long_tasks([(100, 60, 60), (900, 70, None)][:STRAY_LONG_TASKS]) is None


def test_a_freeze_the_thread_ran_is_the_pages():
    assert judge_long_tasks([(1000, 237, 236)]) == "page"


def test_a_freeze_without_its_thread_time_is_the_pages():
    assert judge_long_tasks([(1000, 237, None)]) == "page"


def test_many_long_tasks_the_thread_ran_are_the_pages():
    tasks = [(100 * i, 58, 57) for i in range(STRAY_LONG_TASKS + 1)]
    assert judge_long_tasks(tasks) == "page"


def test_tasks_stretched_while_the_thread_was_stopped_are_the_machines():
    # [58, 237, 99, 208] ms, as in a fresh clone beside another browser; the page's thread
    # ran 20-40 ms of each.
    tasks = [(1000, 58, 21), (2000, 237, 30), (3000, 99, 40), (4000, 208, 25)]
    assert judge_long_tasks(tasks) == "machine"


def test_a_task_the_thread_ran_over_the_freeze_limit_is_the_pages_even_if_stretched():
    # 200 ms, of which the machine took 60: 140 ms were the page's own.
    assert judge_long_tasks([(1000, 200, 140)]) == "page"


def test_stretched_stray_tasks_count_only_for_what_the_thread_ran():
    # Three tasks over 50 ms of wall time, one of them only by the machine's doing.
    assert judge_long_tasks([(0, 60, 55), (500, 70, 60), (900, 129, 30)]) == "machine"
    assert judge_long_tasks([(0, 60, 55), (500, 70, 60), (900, 129, 51)]) == "page"


@given(tasks=st.lists(st.tuples(st.floats(0, 1e5), st.floats(51, 5000)), max_size=6))
def test_what_the_thread_ran_in_full_is_judged_as_its_wall_time(tasks):
    whole = [(s, d, d) for s, d in tasks]
    unknown = [(s, d, None) for s, d in tasks]
    assert judge_long_tasks(whole) == judge_long_tasks(unknown)
    assert judge_long_tasks(whole) in (None, "page")


@given(tasks=st.lists(st.tuples(st.floats(0, 1e5), st.floats(51, 5000),
                                st.floats(0, LONG_TASK_MS)), max_size=6))
def test_tasks_whose_thread_ran_short_never_fail_as_the_pages(tasks):
    assert judge_long_tasks(tasks) != "page"


@pytest.mark.parametrize("duration", [FREEZE_MS + 1, 400])
def test_verdicts_follow_the_thread_time(duration):
    assert judge_long_tasks([(0, duration, duration)]) == "page"
    assert judge_long_tasks([(0, duration, 10)]) == "machine"


def trace(ran_ms, wall_ms, at_ms=1000.0, zero_us=5_000_000, pid=7, tid=7):
    """A trace as Chromium writes it: the check's mark and one task of the main thread."""
    return [
        {"name": MARK, "ph": "I", "pid": pid, "tid": tid, "ts": zero_us + 10_000,
         "args": {"data": {"startTime": 10.0}}},
        {"name": "RunTask", "ph": "X", "pid": pid, "tid": tid, "ts": zero_us + at_ms * 1000,
         "dur": wall_ms * 1000, "tdur": ran_ms * 1000},
        {"name": "RunTask", "ph": "X", "pid": pid, "tid": tid + 1, "ts": zero_us + at_ms * 1000,
         "dur": wall_ms * 1000, "tdur": wall_ms * 1000},  # another thread's task
    ]


def test_a_long_task_gets_the_thread_time_of_its_task_in_the_trace():
    assert thread_times([(1000.5, 129)], trace(30, 129.4)) == [(1000.5, 129, 30)]


def test_a_long_task_the_trace_misses_has_no_thread_time():
    assert thread_times([(3000, 129)], trace(30, 129)) == [(3000, 129, None)]
    assert thread_times([(1000, 129)], []) == [(1000, 129, None)]


class TracedBrowser:
    """A browser whose trace a check has started: stopping it returns `events`."""

    def __init__(self, events):
        self.events = events

    def stop_tracing(self):
        return json.dumps({"traceEvents": self.events}).encode()


def test_a_piece_of_work_over_its_limit_is_the_pages_if_its_thread_ran_it(monkeypatch):
    monkeypatch.setattr(longtasks, "_traced", TracedBrowser(trace(120, 129.4)))
    with pytest.raises(AssertionError, match=r"took 129 ms \(the page's thread ran 120 ms\)"):
        assert_took_at_most(None, (1000.5, 129), 100, "a refusal")


def test_a_piece_of_work_stretched_by_the_machine_is_the_machines(monkeypatch):
    monkeypatch.setattr(longtasks, "_traced", TracedBrowser(trace(30, 129.4)))
    with pytest.raises(longtasks.MachineStalled, match="ran only 30 ms"):
        assert_took_at_most(None, (1000.5, 129), 100, "a refusal")


def test_a_piece_of_work_within_its_limit_passes_and_the_trace_is_read_once(monkeypatch):
    monkeypatch.setattr(longtasks, "_traced", TracedBrowser(trace(30, 80)))
    assert_took_at_most(None, (1000, 80), 100, "a refusal")
    assert longtasks._traced is None and stop_trace() == []


class NoPage:
    def evaluate(self, script):
        raise AssertionError("the check started")


def test_a_test_not_marked_timed_cannot_check_long_tasks():
    # This test is not marked timed: it may run beside others (scripts/run_tests.sh).
    with pytest.raises(AssertionError, match="mark it @pytest.mark.timed"):
        start_long_task_check(NoPage())


# In the browser: a task of `ms` of wall time, queued as the page's own (a long task that
# Playwright's evaluate would not be: the browser does not count its calls). It says when
# it begins, and leaves its span, [start, duration] in ms, in window.__span.
BUSY = """ms => { window.__span = null;
    setTimeout(() => { const t = performance.now(); console.log("busy");
                       while (performance.now() - t < ms) {}
                       window.__span = [t, performance.now() - t]; }, 0); }"""


def open_blank(page):
    """An empty page (with the tests' long-task recorder): no site code to wait for."""
    page.goto("about:blank")
    assert page.evaluate("() => Array.isArray(window.__longTasks)")


def main_thread_pid(page):
    """The process id of the page's renderer, from a trace of its main thread."""
    start_long_task_check(page)
    mark = [e for e in stop_trace() if e.get("name") == MARK][-1]
    assert "--type=renderer" in Path(f"/proc/{mark['pid']}/cmdline").read_text()
    return mark["pid"]


def busy_task(page, ms, stopped_by=None):
    """Runs a BUSY task of `ms` in the page, during a check begun here; with `stopped_by`,
    the page's process id, the process is stopped as soon as the task says it began until
    after its `ms` are over: its thread then runs a few ms of it (the task ends as soon as
    the process goes on). Returns the task's span."""
    start_long_task_check(page)
    if stopped_by is None:
        page.evaluate(BUSY, ms)
    else:
        with page.expect_console_message(lambda message: message.text == "busy"):
            page.evaluate(BUSY, ms)
        os.kill(stopped_by, signal.SIGSTOP)
        try:
            time.sleep(ms / 1000 + 0.05)
        finally:
            os.kill(stopped_by, signal.SIGCONT)
    return page.wait_for_function("() => window.__span").json_value()


def failure(error, check, *args):
    """The message of `check(*args)`'s failure, which must be of type `error` exactly."""
    with pytest.raises(error) as failed:
        check(*args)
    assert type(failed.value) is error, failed.value
    return str(failed.value)


def judged(page, what, error):
    """The long-task check's failure: (wall ms, thread ms)."""
    page.wait_for_function("() => window.__longTasks.length >= 1")
    message = failure(error, assert_no_long_tasks, page, what)
    found = re.search(r"\[(\d+)\] ms.* ran (?:only )?\[(\d+)\] ms", message)
    assert found, message
    return int(found[1]), int(found[2])


def judged_span(page, span, what, error):
    """assert_took_at_most's failure for a 100 ms limit: (wall ms, thread ms)."""
    message = failure(error, assert_took_at_most, page, span, 100, what)
    found = re.search(r"took (\d+) ms.* ran (?:only )?(\d+) ms", message)
    assert found, message
    return int(found[1]), int(found[2])


@pytest.mark.timed
def test_in_chromium_a_task_the_page_makes_long_is_the_pages(page):
    open_blank(page)
    busy_task(page, 150)
    duration, ran = judged(page, "of a busy page", AssertionError)
    assert duration >= 150 and ran > FREEZE_MS, (duration, ran)
    span = busy_task(page, 150)
    duration, ran = judged_span(page, span, "a busy task", AssertionError)
    assert duration >= 150 and ran > FREEZE_MS, (duration, ran)


@pytest.mark.timed
def test_in_chromium_a_task_stretched_by_a_stopped_process_is_the_machines(page):
    open_blank(page)
    pid = main_thread_pid(page)
    busy_task(page, 250, stopped_by=pid)
    duration, ran = judged(page, "of a stopped page", longtasks.MachineStalled)
    assert duration >= 250 and ran <= LONG_TASK_MS, (duration, ran)
    span = busy_task(page, 250, stopped_by=pid)
    duration, ran = judged_span(page, span, "a stopped task", longtasks.MachineStalled)
    assert duration >= 250 and ran <= LONG_TASK_MS, (duration, ran)
