"""pytest's hooks and fixtures for the unit tests (what tests import by name lives in
helpers.py: a plain module, as tests/e2e has a conftest.py of its own)."""

import gc
import math

import helpers
import pytest

from tinygpt import kernels


def pytest_collection_finish(session):
    # The fast engine's kernels, all compiled, as the page has them once its idle warm-up
    # is done (Session.prepare); a test of the warm-up itself empties them for a while.
    kernels.warm_up(math.inf)
    # Everything imported to collect the tests (torch, Hypothesis, the package) lives to
    # the end. Out of the garbage collector's sight, its full collections, which the
    # scalar engine's graphs of Values trigger often, no longer walk it: they took more
    # than half of the scalar tests' time (the page does the same: web.install).
    gc.freeze()


@pytest.fixture(scope="module")
def trained():
    """A Session holding the one trained run the tests share (helpers.TRAINED on
    helpers.TEXT, finished), a fresh copy per test module."""
    return helpers.trained_session()
