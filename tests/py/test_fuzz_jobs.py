"""The jobs' doors fuzzed (Hypothesis): the sharing and exporting jobs driven in
any order beside training, new runs and model changes, through the page's call protocol
with any arguments. Whatever happens, every answer is JSON, a refusal is a message
("kind": "user"), never a bug, and a job that finishes gives exactly what the one-go call
gives for the same weights."""

import json

from helpers import FEW, SMALL
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygpt import jsonio
from tinygpt.session import Session, api

SMALL_RUN = {**SMALL, "steps": 30, "val_fraction": 0.2}  # briefly, a fifth held out
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))

any_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
    max_leaves=8)


def answer_of(session, name, args):
    answer = json.loads(jsonio.call(api(session), name, json.dumps(args)))
    assert answer.get("kind") != "bug", answer.get("traceback")
    if "error" in answer:
        assert answer["kind"] == "user" and "\n" not in answer["error"]
    return answer


PARAMETERS = {"start_share_model": ("exact", "meta"), "start_export_project": ("meta",),
              "job_for": ("budget_ms",), "cancel_job": ()}


@FUZZ
@given(name=st.sampled_from(list(PARAMETERS)), values=st.lists(any_json, min_size=2,
                                                                max_size=2),
       with_model=st.booleans(), running=st.booleans())
def test_the_job_doors_with_any_values(name, values, with_model, running):
    session = Session()
    if with_model:
        session.new_run(FEW, SMALL_RUN)
        if running:
            session.start_share_model()
    answer_of(session, name, dict(zip(PARAMETERS[name], values)))


actions = st.lists(st.sampled_from(["share", "share exact", "export", "piece", "pieces",
                                    "cancel", "train", "discard", "new run"]), max_size=25)


@FUZZ
@given(steps=actions)
def test_jobs_in_any_order_beside_training_and_new_runs(steps):
    session = Session()
    session.new_run(FEW, SMALL_RUN)
    want = None  # what the job running now must answer
    for step in steps:
        if step in ("share", "share exact", "export"):
            if session.model is None:
                assert "error" in answer_of(session, "start_export_project", {})
                continue
            if step == "export":
                want = session.export_project()
                job = answer_of(session, "start_export_project", {})["ok"]["job"]
            else:
                exact = step == "share exact"
                want = session.share_model(exact=exact)
                job = answer_of(session, "start_share_model", {"exact": exact})["ok"]["job"]
        elif step in ("piece", "pieces"):
            answer = answer_of(session, "job_for", {"budget_ms": 0 if step == "piece" else 50})
            got = answer["ok"]
            if want is None:
                assert got["job"] is None and got["done"]
            elif got["done"]:
                assert got["job"] == job and got["result"] == want
                want = None
        elif step == "cancel":
            answer_of(session, "cancel_job", {})
            want = None
        elif step == "train" and session.trainer is not None:
            answer_of(session, "train_for", {"budget_ms": 5, "max_steps": 2})
        elif step == "discard":
            answer_of(session, "discard", {})
            want = None
        elif step == "new run":
            session.new_run(FEW, SMALL_RUN)
            want = None
