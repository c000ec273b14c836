"""A step's batch computed in pieces: its names in chunks of bounded cost, one per task.

A recipe's batch of 8 city names was one task of about 100 ms in the page. Now a step
whose batch would cost more than work.MAX_PIECE_COST is cut into consecutive chunks
(work.chunk_ranges) that the page trains one per piece of work (Trainer.train_piece),
adding up their gradients, with Adam once after the last. Checked here: the chunking
(deterministic, within the bound, as large as the bound allows); a split step against
the same step computed whole (both engines, loss and every weight after Adam) and
against the independent scalar engine; batches that fit one chunk computed exactly as
before; the scheduler running one chunk per piece (a fake clock); a run saved in the
middle of a step restoring exactly; a step whose engine changes between pieces starting
over; a chunk that diverges.
"""

import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_batch import assert_close, mean_of_single_documents

from tinygpt import fast, model, scheduler, work
from tinygpt import settings as table
from tinygpt.errors import TinyGPTError
from tinygpt.model import Config
from tinygpt.session import Session
from tinygpt.trainer import Trainer

DATA = Path(__file__).resolve().parents[2] / "public" / "data"
CITIES = (DATA / "cities.txt").read_text()
FIRST_NAMES = (DATA / "first_names.txt").read_text()
ONE_MINUTE = table.recipe_settings("one-minute")  # 8 names per step, 10% held out


def trainer(text=CITIES, bound=work.MAX_PIECE_COST, **changes):
    t = Trainer(text, **{**ONE_MINUTE, "steps": 200, **changes})
    t.piece_bound = bound
    return t


def chunks_of_next_step(t):
    """The chunk ranges of t's next step, as work.chunk_ranges cuts them."""
    docs = [t.tokenizer.encode(d) for d in t.step_docs()]
    positions = [min(t.config.block_size, len(d) - 1) for d in docs]
    return positions, work.chunk_ranges(t.config, t.tokenizer.vocab_size, positions, t.engine,
                                        t.piece_bound)


def same_weights(a, b):
    return a.params == b.params and a.optimizer.m == b.optimizer.m and \
        a.optimizer.v == b.optimizer.v


# --- the chunking ------------------------------------------------------------------------------
shapes = st.builds(
    lambda E, H, L, block: Config(E * H, H, L, block),
    st.sampled_from([1, 2, 4, 8, 16]), st.sampled_from([1, 2, 4]), st.integers(1, 3),
    st.integers(1, 64),
)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(config=shapes, vocab=st.integers(2, 257), data=st.data(),
       engine=st.sampled_from(["fast", "scalar"]),
       bound=st.sampled_from([0.0, 1.0, 3.0, work.MAX_PIECE_COST, 20.0, math.inf]))
def test_chunks_cover_the_batch_in_order_each_as_large_as_the_bound_allows(
        config, vocab, data, engine, bound):
    positions = data.draw(st.lists(st.integers(1, config.block_size), min_size=1, max_size=8))
    ranges = work.chunk_ranges(config, vocab, positions, engine, bound)
    # consecutive, non-empty, the whole batch in order
    assert ranges[0][0] == 0 and ranges[-1][1] == len(positions)
    assert all(a < b for a, b in ranges)
    assert all(b == c for (_, b), (c, _) in zip(ranges, ranges[1:]))
    for i, (a, b) in enumerate(ranges):
        cost = work.batch_cost(config, vocab, positions[a:b], engine)
        assert cost <= bound or b - a == 1  # a name over the bound alone
        if i + 1 < len(ranges):  # the next name would not have fitted
            assert work.batch_cost(config, vocab, positions[a:b + 1], engine) > bound
    # only its arguments decide: again, and with the cost caches emptied, the same
    work.document_cost.cache_clear()
    work.fixed_cost.cache_clear()
    assert work.chunk_ranges(config, vocab, positions, engine, bound) == ranges


@pytest.mark.parametrize("engine", ["fast", "scalar"])
def test_a_batch_costs_what_its_names_cost_each_at_its_length(engine):
    config = Config(16, 4, 2, 16)
    for batch in (1, 3, 8):
        for n in (1, 7, 16):
            want = work.step_cost(config, 40, batch, n, engine)
            assert work.batch_cost(config, 40, [n] * batch, engine) == pytest.approx(want,
                                                                                   rel=1e-12)
    mixed = work.batch_cost(config, 40, [2, 16, 7], engine)
    assert work.step_cost(config, 40, 3, 2, engine) < mixed < work.step_cost(config, 40, 3, 16,
                                                                             engine)


def test_the_city_recipe_is_cut_into_pieces_within_the_bound():
    # The recipe's 8 city names of up to 16 positions over 119 tokens cost up to 18.5
    # default steps whole (about 100 ms): cut, no piece is over the bound.
    config = Config()
    assert work.step_cost(config, 119, 8, 16) > 2.5 * work.MAX_PIECE_COST
    ranges = work.chunk_ranges(config, 119, [16] * 8)
    assert len(ranges) == 4
    t = trainer()
    most = 1
    for _ in range(30):
        positions, ranges = chunks_of_next_step(t)
        most = max(most, len(ranges))
        pieces = 0
        while True:
            cost = t.next_piece_cost()
            assert cost <= work.MAX_PIECE_COST
            assert cost == work.batch_cost(t.config, 119, positions[slice(*ranges[pieces])])
            pieces += 1
            if t.train_piece() is not None:
                break
        assert pieces == len(ranges)
    assert most >= 3


def test_the_scalar_engines_chunks_are_its_names_at_the_default_size():
    # One name of even 2 positions costs more than a piece's bound on the scalar engine.
    assert work.step_cost(Config(), 27, 1, 2, "scalar") > work.MAX_PIECE_COST
    assert work.chunk_ranges(Config(), 27, [2, 7, 16, 3], "scalar") == [(0, 1), (1, 2), (2, 3),
                                                                        (3, 4)]


# --- a split step is the whole step --------------------------------------------------------------
@pytest.mark.parametrize("bound", [0.0, 3.0, work.MAX_PIECE_COST], ids=lambda b: f"bound {b}")
def test_a_split_step_equals_the_step_computed_whole_fast(bound):
    whole, split = trainer(bound=math.inf), trainer(bound=bound)
    split_steps = 0
    for _ in range(12):
        split_steps += len(chunks_of_next_step(split)[1]) > 1
        a, b = whole.step(), split.step()
        assert abs(a - b) <= 1e-12 * a
    assert split_steps >= 6
    for name, matrix in whole.params.items():
        for row_a, row_b in zip(matrix, split.params[name]):
            assert max(abs(x - y) for x, y in zip(row_a, row_b)) <= 1e-12
    for x, y in zip(whole.optimizer.m + whole.optimizer.v, split.optimizer.m + split.optimizer.v):
        assert abs(x - y) <= 1e-12


@pytest.mark.parametrize("bound", [0.0, 20.0])
def test_a_split_step_equals_the_step_computed_whole_scalar(bound):
    # The parameters' Values live from chunk to chunk and add up the gradient as one
    # batch_loss_and_grads does: the same numbers exactly.
    small = {"n_embd": 8, "n_head": 2, "block_size": 8, "engine": "scalar"}
    whole = trainer(FIRST_NAMES, bound=math.inf, **small)
    split = trainer(FIRST_NAMES, bound=bound, **small)
    assert len(chunks_of_next_step(split)[1]) > 1
    assert [whole.step() for _ in range(3)] == [split.step() for _ in range(3)]
    assert same_weights(whole, split)


def test_split_gradients_match_the_scalar_engine_one_name_at_a_time():
    # An independent computation: the scalar engine, a name at a time, averaged.
    t = trainer(bound=0.0, steps=5)
    docs = [t.tokenizer.encode(d) for d in t.step_docs()]
    assert len(chunks_of_next_step(t)[1]) == 8
    loss, grads = t.gradients()
    want_loss, want = mean_of_single_documents(model.loss_and_grads, t.params, t.config, docs)
    assert abs(loss - want_loss) <= 1e-12 * want_loss
    assert_close(grads, want, 1e-9, "split fast vs scalar")


@pytest.mark.parametrize("engine", ["fast", "scalar"])
def test_a_batch_that_fits_one_chunk_is_computed_as_before(engine):
    engines = {"fast": fast, "scalar": model}
    t = trainer(FIRST_NAMES, engine=engine, n_embd=8, n_head=2, block_size=8)
    docs = [t.tokenizer.encode(d) for d in t.step_docs()]
    if engine == "fast":
        assert chunks_of_next_step(t)[1] == [(0, 8)]
    assert t.gradients() == engines[engine].batch_loss_and_grads(t.params, t.config, docs)


# --- pieces in the page's tasks -----------------------------------------------------------------
def fake_clock(monkeypatch, t, ms_per_cost=work.DEFAULT_STEP_MS):
    """perf_counter as a clock that only a piece of training moves: by its estimated cost
    at DEFAULT_STEP_MS per unit. Returns the list of the pieces' costs run."""
    clock, costs = [1000.0], []
    original = t.train_piece

    def timed_piece():
        cost = t.next_piece_cost()
        costs.append(cost)
        clock[0] += cost * ms_per_cost / 1000
        return original()

    monkeypatch.setattr(scheduler.time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(t, "train_piece", timed_piece)
    return costs


def test_train_for_runs_one_chunk_per_piece_and_counts_the_step_after_its_last(monkeypatch):
    session = Session()
    session.new_run(CITIES, {**ONE_MINUTE, "steps": 12})
    t = session.trainer
    reference = trainer(steps=12)
    costs = fake_clock(monkeypatch, t)
    for _ in range(6):
        chunks = len(chunks_of_next_step(t)[1])
        step = t.step_count
        for piece in range(chunks):  # a budget of 0: one piece per task
            answer = session.train_for(0)
            last = piece == chunks - 1
            assert answer["step"] == step + last
            assert answer["losses"] == ([reference.step()] if last else [])
    assert len(costs) > 6 and max(costs) <= work.MAX_PIECE_COST


@pytest.mark.parametrize("budget", [20, 45])
def test_train_for_fits_as_many_pieces_as_the_budget_takes(monkeypatch, budget):
    # Pieces take exactly their estimate here, so after the first one a task never
    # overruns its budget, and stops only when the next piece would. (The pieces here
    # take 3 to 36 ms: one as long as the last can be twice as long.)
    session = Session()
    session.new_run(CITIES, {**ONE_MINUTE, "steps": 12})
    t = session.trainer
    reference = trainer(steps=12)
    costs = fake_clock(monkeypatch, t)
    losses = []
    session.train_for(budget)  # the first task learns the time per unit of cost
    losses += t.losses
    tasks = []
    while not t.done:
        before = len(costs)
        answer = session.train_for(budget)
        losses += answer["losses"]
        ran = costs[before:]
        tasks.append(len(ran))
        if len(ran) > 1:
            assert answer["ms"] <= budget + 1e-6
        if not t.done and ran:
            assert answer["ms"] + t.next_piece_cost() * work.DEFAULT_STEP_MS >= budget - 1e-6
    assert losses == [reference.step() for _ in range(12)]
    if budget == 45:
        assert max(tasks) >= 2  # some pieces share a task


def test_a_run_saved_in_the_middle_of_a_step_restores_exactly():
    # A saved run holds whole steps only: saved between two chunks, it restores at the
    # step's start, which is computed again, and the run goes on as if never stopped.
    session = Session()
    session.new_run(CITIES, {**ONE_MINUTE, "steps": 8})
    t = session.trainer
    for _ in range(100):  # pieces, until one has run of a step after the third
        session.train_for(0)
        if t._partial is not None and t._partial.next >= 1 and t.step_count >= 3:
            break
    assert t._partial.next >= 1 and not t.done
    steps_done, losses_done = t.step_count, list(t.losses)
    saved = json.loads(json.dumps(session.run_state(packed=True)))
    restored = Session()
    restored.restore_run(saved)
    assert restored.trainer.step_count == steps_done and restored.trainer.losses == losses_done
    reference = trainer(steps=8)
    want = [reference.step() for _ in range(8)]
    for s in (session, restored):
        while not s.trainer.done:
            s.train_for(0)
        assert s.trainer.losses == want
        assert same_weights(s.trainer, reference)


def test_a_step_whose_engine_changes_between_pieces_starts_over():
    # What the first engine gathered is dropped: the step is the new engine's alone, as
    # if it had been switched before the step.
    small = {"n_embd": 8, "n_head": 2, "block_size": 8}
    t = trainer(FIRST_NAMES, bound=0.0, **small)
    boundary = trainer(FIRST_NAMES, bound=0.0, **small)
    assert t.train_piece() is None and t.train_piece() is None
    t.engine = boundary.engine = "scalar"
    loss = None
    while loss is None:
        loss = t.train_piece()
    assert loss == boundary.step()
    assert same_weights(t, boundary)


def test_a_chunk_that_diverges_stops_the_step_with_a_message(monkeypatch):
    t = trainer()
    while len(chunks_of_next_step(t)[1]) < 2:
        t.step()
    params, step = t.params, t.step_count
    calls = []
    original = fast.batch_loss_and_grads

    def overflowing(*args):
        calls.append(1)
        if len(calls) == 2:
            raise OverflowError("math range error")
        return original(*args)

    monkeypatch.setattr(fast, "batch_loss_and_grads", overflowing)
    assert t.train_piece() is None
    with pytest.raises(TinyGPTError, match=f"diverged at step {step + 1}"):
        t.train_piece()
    assert t.params is params and t.step_count == step and t._partial is None
    monkeypatch.setattr(fast, "batch_loss_and_grads", original)
    whole = trainer(bound=math.inf)
    whole.params, whole.step_count = t.params, t.step_count
    whole.optimizer.m, whole.optimizer.v = list(t.optimizer.m), list(t.optimizer.v)
    assert abs(t.step() - whole.step()) <= 1e-12 * whole.losses[-1]  # the step, from its start
