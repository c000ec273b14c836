"""The long-task check's judgement (pageutil.judge_long_tasks), without a browser: a page
whose own task is long fails whatever the machine did; a short task stretched by the
machine stalling (the probe worker's timer stopped too) only re-runs the test."""

import pageutil
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pageutil import FREEZE_MS, STRAY_LONG_TASKS, judge_long_tasks, machine_explains


def test_no_long_task_passes():
    assert judge_long_tasks([], []) is None


def test_a_stray_long_task_or_two_pass_without_the_probe():
    assert judge_long_tasks([(100, 60), (900, 70)][:STRAY_LONG_TASKS], []) is None


def test_a_freeze_with_an_idle_machine_is_the_pages():
    assert judge_long_tasks([(1000, 237)], []) == "page"


def test_many_long_tasks_with_an_idle_machine_are_the_pages():
    tasks = [(100 * i, 58) for i in range(STRAY_LONG_TASKS + 1)]
    assert judge_long_tasks(tasks, []) == "page"


def test_a_task_stretched_by_a_stall_of_the_machine_is_the_machines():
    # [58, 237, 99, 208] ms, as in a fresh clone beside another browser: each stretched
    # by a stall of the process that the worker's own timer saw.
    tasks = [(1000, 58), (2000, 237), (3000, 99), (4000, 208)]
    stalls = [(1010, 1040), (2010, 2220), (3005, 3070), (4000, 4190)]
    assert judge_long_tasks(tasks, stalls) == "machine"


def test_a_stall_elsewhere_does_not_excuse_a_long_task():
    assert judge_long_tasks([(1000, 237)], [(5000, 5300)]) == "page"


def test_a_stall_shorter_than_the_excess_does_not_excuse_it():
    # The task is 200 ms; the machine stopped 60 ms of it: 140 ms were the page's own.
    assert judge_long_tasks([(1000, 200)], [(1050, 1110)]) == "page"


def test_overlapping_stalls_count_once():
    assert not machine_explains((0, 200), [(10, 100), (20, 100), (50, 100)])
    assert machine_explains((0, 200), [(10, 100), (100, 170)])


@given(start=st.floats(0, 1e5), duration=st.floats(51, 5000),
       stalls=st.lists(st.tuples(st.floats(0, 1e5), st.floats(0, 5000)), max_size=6))
def test_stalls_outside_a_task_never_excuse_it(start, duration, stalls):
    outside = [(a, a + d) for a, d in stalls if a + d <= start or a >= start + duration]
    assert not machine_explains((start, duration), outside)


@given(start=st.floats(0, 1e5), duration=st.floats(51, 5000))
def test_a_stall_over_the_whole_task_excuses_it(start, duration):
    assert machine_explains((start, duration), [(start - 1, start + duration + 1)])


@pytest.mark.parametrize("duration", [FREEZE_MS + 1, 400])
def test_verdicts_follow_the_probe(duration):
    task = [(0, duration)]
    assert judge_long_tasks(task, []) == "page"
    assert judge_long_tasks(task, [(0, duration)]) == "machine"


class NoPage:
    def evaluate(self, script):
        raise AssertionError("the probe started")


def test_a_test_not_marked_timed_cannot_check_long_tasks():
    # This test is not marked timed: it may run beside others (scripts/run_tests.sh).
    with pytest.raises(AssertionError, match="mark it @pytest.mark.timed"):
        pageutil.start_long_task_check(NoPage())


@pytest.mark.timed
def test_a_test_marked_timed_can():
    with pytest.raises(AssertionError, match="the probe started"):
        pageutil.start_long_task_check(NoPage())
