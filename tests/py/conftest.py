"""pytest's hooks and fixtures for the unit tests (what tests import by name lives in
helpers.py: a plain module, as tests/e2e has a conftest.py of its own)."""

import gc

import helpers
import pytest


def pytest_collection_finish(session):
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
