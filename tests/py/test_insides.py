"""The "Inside the model" panel's numbers (tinygpt.insides) and the Session calls behind it.

project_2d is held to principal components computed independently: a closed form for
two columns, and a plain Jacobi eigen-decomposition of the whole covariance matrix
written here (the module uses Lanczos, bisection and inverse iteration instead). The
panel's attention and probabilities must be Model.attention's and
Model.next_token_probs' exactly, and any probe text gives a value or a TinyGPTError.
"""

import json
import math
import random
import time

import pytest
from helpers import TEXT, TRAINED
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygpt import insides, scheduler, web
from tinygpt.checkpoint import dumps
from tinygpt.errors import TinyGPTError
from tinygpt.insides import gather, nearest, project_2d
from tinygpt.session import Session, api
from tinygpt.trainer import Trainer

RUN = {**TRAINED, "steps": 200}  # the panel during a run of the trained model's size


def gaussian(n, E, seed=0, scales=None):
    rng = random.Random(seed)
    scales = scales or [1.0] * E
    return [[rng.gauss(0, s) for s in scales] for _ in range(n)]


# --- an independent principal-component analysis -------------------------------------------
def covariance(matrix):
    n, E = len(matrix), len(matrix[0])
    mean = [sum(row[j] for row in matrix) / n for j in range(E)]
    X = [[row[j] - mean[j] for j in range(E)] for row in matrix]
    return [[sum(x[i] * x[j] for x in X) for j in range(E)] for i in range(E)], X


def jacobi_eigen(A, sweeps=100):
    """Eigenvalues and eigenvectors (as rows) of a symmetric matrix: cyclic Jacobi, each
    sweep rotating away every off-diagonal entry in turn, until all are negligible."""
    n = len(A)
    A = [row[:] for row in A]
    V = [[float(i == j) for j in range(n)] for i in range(n)]
    for _ in range(sweeps):
        scale = max(abs(A[i][i]) for i in range(n))
        if all(abs(A[i][j]) <= 1e-14 * scale for i in range(n) for j in range(i + 1, n)):
            break
        for p in range(n):
            for q in range(p + 1, n):
                if A[p][q] == 0:
                    continue
                phi = 0.5 * math.atan2(2 * A[p][q], A[q][q] - A[p][p])
                c, s = math.cos(phi), math.sin(phi)
                for row in A:
                    akp, akq = row[p], row[q]
                    row[p], row[q] = c * akp - s * akq, s * akp + c * akq
                Ap, Aq = A[p], A[q]
                for k in range(n):
                    apk, aqk = Ap[k], Aq[k]
                    Ap[k], Aq[k] = c * apk - s * aqk, s * apk + c * aqk
                for row in V:
                    vkp, vkq = row[p], row[q]
                    row[p], row[q] = c * vkp - s * vkq, s * vkp + c * vkq
    order = sorted(range(n), key=lambda i: -A[i][i])
    return [A[i][i] for i in order], [[V[k][i] for k in range(n)] for i in order]


def dot(a, b):
    return sum(x * y for x, y in zip(a, b))


def assert_same_direction(axis, expected, tol=1e-7):
    """Equal up to sign."""
    assert abs(abs(dot(axis, expected)) - 1) < tol, (axis, expected)


def check_against_jacobi(matrix, tol=1e-7):
    result = project_2d(matrix)
    C, X = covariance(matrix)
    values, vectors = jacobi_eigen(C)
    for axis, expected in zip(result["axes"], vectors):
        assert abs(dot(axis, axis) - 1) < 1e-12
        assert_same_direction(axis, expected, tol)
    assert abs(dot(*result["axes"])) < 1e-10
    total = sum(values)
    for share, value in zip(result["explained"], values):
        assert share == pytest.approx(value / total, rel=1e-9, abs=1e-12)
    for point, x in zip(result["points"], X):
        assert point == pytest.approx([dot(x, a) for a in result["axes"]], abs=1e-12)
    return result


# --- project_2d ---------------------------------------------------------------------------
def test_two_columns_match_the_closed_form():
    # For a 2x2 covariance [[a, b], [b, c]] the first axis is at angle
    # theta = atan2(2b, a - c) / 2 and the second one perpendicular to it.
    matrix = gaussian(30, 2, seed=3, scales=[2.0, 0.7])
    for row in matrix:
        row[1] += 0.5 * row[0]  # correlated columns: a tilted ellipse
    (a, b), (_, c) = covariance(matrix)[0]
    theta = math.atan2(2 * b, a - c) / 2
    result = project_2d(matrix)
    assert_same_direction(result["axes"][0], [math.cos(theta), math.sin(theta)], 1e-12)
    assert_same_direction(result["axes"][1], [-math.sin(theta), math.cos(theta)], 1e-12)
    mid, half = (a + c) / 2, math.hypot((a - c) / 2, b)
    assert result["explained"] == pytest.approx([(mid + half) / (a + c), (mid - half) / (a + c)])


def test_three_by_three_matches_jacobi():
    check_against_jacobi([[1.0, 2.0, 0.5], [0.0, 1.0, 3.0], [2.0, -1.0, 1.0]])


@pytest.mark.parametrize(
    "n, E",
    [(27, 16), (16, 16), (27, 8), (5, 40), (40, 5), (70, 12), (12, 70), (3, 9), (9, 3)],
)
def test_matches_jacobi_on_random_matrices(n, E):
    # Decaying scales, as trained embeddings have: well separated leading eigenvalues.
    check_against_jacobi(gaussian(n, E, seed=n * 100 + E, scales=[0.9**j for j in range(E)]))


def test_matches_jacobi_on_clustered_spectra():
    # Plain Gaussian rows (an untrained model): eigenvalues crowd together.
    check_against_jacobi(gaussian(27, 16, seed=1), tol=1e-6)
    check_against_jacobi(gaussian(16, 16, seed=2), tol=1e-6)


def test_beyond_one_lanczos_pass_still_converges():
    # More dimensions than one Lanczos pass holds: restarts, and the residual check.
    E = insides.KRYLOV + 16
    matrix = gaussian(E + 10, E, seed=5, scales=[1 / (1 + j) for j in range(E)])
    result = project_2d(matrix)
    C, _ = covariance(matrix)
    for axis, value in zip(result["axes"], [None, None]):
        Ca = [dot(row, axis) for row in C]
        lam = dot(axis, Ca)
        residual = math.sqrt(sum((x - lam * a) ** 2 for x, a in zip(Ca, axis)))
        assert residual < 1e-8 * max(dot(r, r) for r in C) ** 0.5, value
    values, vectors = jacobi_eigen(C, sweeps=20)
    assert_same_direction(result["axes"][0], vectors[0], 1e-7)
    assert_same_direction(result["axes"][1], vectors[1], 1e-7)


def test_a_trained_models_embeddings(trained):
    check_against_jacobi(trained.trainer.params["wte"])
    check_against_jacobi(trained.trainer.params["wpe"])


def test_signs_are_deterministic_without_previous_axes():
    matrix = gaussian(20, 6, seed=7, scales=[3, 2, 1, 1, 1, 1])
    first, again = project_2d(matrix), project_2d(matrix)
    assert first == again
    for axis in first["axes"]:
        biggest = max(axis, key=abs)
        assert biggest > 0


def test_signs_follow_the_previous_axes_through_small_changes():
    rng = random.Random(11)
    matrix = gaussian(27, 16, seed=9, scales=[0.8**j for j in range(16)])
    result = project_2d(matrix)
    for frame in range(30):  # training: the embeddings drift a little each frame
        matrix = [[v + rng.gauss(0, 0.003) for v in row] for row in matrix]
        previous = result
        result = project_2d(matrix, previous["axes"])
        for new, old in zip(result["axes"], previous["axes"]):
            assert dot(new, old) > 0.99, frame
        moved = max(math.dist(p, q) for p, q in zip(result["points"], previous["points"]))
        assert moved < 0.1, frame  # no point jumps to the other side of the picture
        alone = project_2d(matrix)  # the same matrix without history: same axes up to sign
        for a, b in zip(result["axes"], alone["axes"]):
            assert_same_direction(a, b, 1e-9)


def test_previous_axes_pointing_the_other_way_flip_the_result():
    matrix = gaussian(12, 5, seed=4, scales=[3, 2, 1, 0.5, 0.2])
    plain = project_2d(matrix)
    flipped = project_2d(matrix, [[-a for a in axis] for axis in plain["axes"]])
    for a, b in zip(flipped["axes"], plain["axes"]):
        assert a == pytest.approx([-v for v in b], abs=1e-12)
    for p, q in zip(flipped["points"], plain["points"]):
        assert p == pytest.approx([-q[0], -q[1]], abs=1e-12)


@pytest.mark.parametrize(
    "previous",
    [None, [], [[1.0]], [[1.0] * 5], [[1.0] * 4, [0.0] * 5], [[0.0] * 5, [1.0] * 5],
     [[math.nan] * 5, [1.0] * 5], [["x"] * 5, [1.0] * 5], "axes", {"a": 1}],
)
def test_previous_axes_that_do_not_fit_are_ignored(previous):
    matrix = gaussian(12, 5, seed=4, scales=[3, 2, 1, 0.5, 0.2])
    assert project_2d(matrix, previous) == project_2d(matrix)


@pytest.mark.parametrize(
    "matrix",
    [
        [[0.5, -1.0, 2.0]] * 4,  # every row the same: no spread at all
        [[1.0, 2.0, 3.0]],  # one row (a model with block_size 1 has one position)
        [[1.0], [2.0], [4.0]],  # one column
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],  # two rows: one direction of spread
        [[0.0] * 4, [0.0] * 4, [1e-200] * 4],  # tiny numbers
    ],
)
def test_degenerate_matrices_give_finite_orthonormal_axes(matrix):
    result = project_2d(matrix)
    a, b = result["axes"]
    assert len(a) == len(b) == len(matrix[0])
    assert all(math.isfinite(v) for v in a + b)
    assert all(math.isfinite(v) for p in result["points"] for v in p)
    assert abs(dot(a, a) - 1) < 1e-12
    if len(a) > 1:
        assert abs(dot(b, b) - 1) < 1e-12 and abs(dot(a, b)) < 1e-12
    assert all(0 <= share <= 1 for share in result["explained"])
    json.dumps(result, allow_nan=False)


def test_projection_cost_is_small_for_the_default_model(capsys):
    t = Trainer(TEXT, steps=10)  # the default size: 16 numbers per letter
    for _ in range(5):
        t.step()
    timings = {}
    for name in ("wte", "wpe"):
        matrix = t.params[name]
        project_2d(matrix)
        start = time.process_time()  # the processor's time: what it costs, not the machine's load
        for _ in range(20):
            project_2d(matrix)
        ms = (time.process_time() - start) / 20 * 1000
        timings[f"{name} {len(matrix)}x{len(matrix[0])}"] = ms
    with capsys.disabled():
        print("\nproject_2d ms:", {k: round(v, 2) for k, v in timings.items()})
    assert all(ms < 50 for ms in timings.values())  # about 1-3 ms; generous for busy machines


# --- gather: the panel's data ------------------------------------------------------------------
def test_gather_returns_what_the_model_computes(trained):
    data = gather(trained.trainer, "emma", "mi", 0.7, letter="a")
    assert data["attention"]["layers"] == trained.trainer.attention("emma")
    assert data["attention"]["tokens"] == ["", "e", "m", "m", "a"]
    assert data["attention"]["cut"] == 0
    assert data["next"]["probs"] == [list(p) for p in trained.trainer.next_token_probs("mi", 0.7)]
    assert data["next"]["temperature"] == 0.7
    assert data["vocab"] == trained.trainer.tokenizer.chars + [""]
    assert data["embeddings"] == project_2d(trained.trainer.params["wte"])
    assert data["positions"] == project_2d(trained.trainer.params["wpe"])
    assert len(data["embeddings"]["points"]) == trained.trainer.tokenizer.vocab_size
    assert len(data["positions"]["points"]) == trained.trainer.config.block_size
    json.dumps(data, allow_nan=False)


def test_most_attended_is_the_largest_weight_of_each_row(trained):
    data = gather(trained.trainer, "isabella", "")
    for layer, top_layer in zip(data["attention"]["layers"], data["attention"]["most_attended"]):
        for head, tops in zip(layer, top_layer):
            for q, (row, top) in enumerate(zip(head, tops)):
                assert top <= q
                assert row[top] == max(row[: q + 1])


def test_the_probe_name_is_clamped_to_the_block(trained):
    block = trained.trainer.config.block_size
    data = gather(trained.trainer, "abcdefghijlmn", "")  # 13 letters; the block holds BOS + 7
    assert data["attention"]["tokens"] == [""] + list("abcdefg")
    assert data["attention"]["cut"] == 13 - (block - 1)
    assert data["attention"]["layers"] == trained.trainer.attention("abcdefghijlmn")
    assert len(data["attention"]["layers"][0][0]) == block


def test_an_empty_probe_name_is_bos_alone(trained):
    data = gather(trained.trainer, "", "")
    assert data["attention"]["tokens"] == [""]
    assert all(head == [[1.0]] for layer in data["attention"]["layers"] for head in layer)


def test_neighbours_are_the_nearest_in_the_full_embedding_space(trained):
    wte = trained.trainer.params["wte"]
    vocab = trained.trainer.tokenizer.chars + [""]
    for letter in ("a", "z", ""):
        data = gather(trained.trainer, "", "", letter=letter)
        i = vocab.index(letter)
        expected = sorted((math.dist(wte[i], row), vocab[j]) for j, row in enumerate(wte) if j != i)
        got = data["neighbours"]["nearest"]
        assert [c for c, _ in got] == [c for _, c in expected[: insides.NEIGHBOURS]]
        assert [d for _, d in got] == pytest.approx([d for d, _ in expected[: insides.NEIGHBOURS]])
        assert data["neighbours"]["letter"] == letter
        assert data["neighbours"]["dims"] == trained.trainer.config.n_embd
    assert gather(trained.trainer, "", "")["neighbours"]["letter"] == vocab[0]
    assert nearest([[0.0], [1.0], [1.0], [3.0]], 0, "wxyz", k=2) == [["x", 1.0], ["y", 1.0]]


def test_positions_can_be_left_out(trained):
    assert gather(trained.trainer, "emma", "", positions=False)["positions"] is None


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"probe_name": None}, "probe name must be text"),
        ({"probe_name": 5}, "probe name must be text"),
        ({"probe_name": ["emma"]}, "probe name must be text"),
        ({"probe_name": "x" * 41}, "too long"),
        ({"probe_name": "Emma"}, "does not know: 'E'"),
        ({"probe_name": "em\nma"}, "does not know"),
        ({"probe_prefix": "Q"}, "probe prefix has a character"),
        ({"probe_prefix": 3}, "probe prefix must be text"),
        ({"probe_prefix": "abcdefgh"}, "at most 7 letters"),
        ({"temperature": 0}, "temperature"),
        ({"temperature": "hot"}, "temperature"),
        ({"temperature": math.inf}, "temperature"),
        ({"letter": "Q"}, "Pick a letter"),
        ({"letter": 0}, "Pick a letter"),
    ],
)
def test_bad_probes_are_explained(trained, kwargs, words):
    args = {"probe_name": "emma", "probe_prefix": "", **kwargs}
    with pytest.raises(TinyGPTError) as caught:
        gather(trained.trainer, **args)
    message = str(caught.value)
    assert words in message and "\n" not in message


FUZZ = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture]}


@settings(max_examples=150, **FUZZ)
@given(name=st.text(max_size=50), prefix=st.text(max_size=12))
def test_any_probe_text_gives_a_value_or_a_clear_error(trained, name, prefix):
    try:
        data = gather(trained.trainer, name, prefix)
    except TinyGPTError as e:
        assert str(e).strip() and "\n" not in str(e)
        return
    assert data["attention"]["layers"] == trained.trainer.attention(name)
    json.dumps(data, allow_nan=False)


@settings(max_examples=100, **FUZZ)
@given(
    name=st.text(alphabet="abcdeilmnorsv", max_size=20),
    prefix=st.text(alphabet="abcdeilmnorsv", max_size=7),
    temperature=st.floats(min_value=0.05, max_value=5),
)
def test_known_letters_always_work(trained, name, prefix, temperature):
    data = gather(trained.trainer, name, prefix, temperature)
    want = trained.trainer.next_token_probs(prefix, temperature)
    assert data["next"]["probs"] == [list(p) for p in want]
    assert sum(p for _, p in data["next"]["probs"]) == pytest.approx(1)


# --- the Session calls ------------------------------------------------------------------------
def new_session(**settings):
    session = Session()
    session.new_run(TEXT, {**RUN, **settings})
    return session


def test_insides_for_a_run_defaults_to_the_first_training_name():
    session = new_session()
    data = session.insides()
    assert data["attention"]["name"] == session.trainer.train_docs[0]
    assert data["step"] == 0
    assert data["next"]["prefix"] == ""


def test_insides_for_a_loaded_model_probes_a_name_it_makes_up(trained):
    session = Session()
    session.load_model(dumps(trained.trainer))
    data = session.insides(temperature=0.5)
    assert data["step"] is None
    assert data["attention"]["name"] == trained.trainer.sample(1, temperature=0.5, seed=0)[0]
    assert data["attention"]["layers"] == trained.trainer.attention(data["attention"]["name"])


def test_insides_without_a_model_is_explained():
    with pytest.raises(TinyGPTError):
        Session().insides()


def test_the_session_keeps_the_signs_of_its_last_axes():
    session = new_session()
    first = session.insides()
    session.train_for(60_000, max_steps=3)
    second = session.insides()
    for name in ("embeddings", "positions"):
        for a, b in zip(first[name]["axes"], second[name]["axes"]):
            assert dot(a, b) > 0


def test_train_for_returns_the_panel_data_when_it_is_due(monkeypatch):
    session = new_session()
    assert "insides" not in session.train_for(60_000, max_steps=1)  # panel closed
    now = session.set_insides({"probe_name": "mia", "probe_prefix": "e", "temperature": 0.8})
    assert now["attention"]["name"] == "mia" and now["step"] == 1
    clock = [1000.0]
    monkeypatch.setattr(scheduler.time, "perf_counter", lambda: clock[0])
    session.panel.at = clock[0]
    assert "insides" not in session.train_for(20, max_steps=2)  # not due yet
    clock[0] += scheduler.INSIDES_EVERY + 0.001
    expected = [list(p) for p in session.trainer.next_token_probs("e", 0.8)]
    answer = session.train_for(20, max_steps=2)
    data = answer["insides"]
    assert data["attention"]["name"] == "mia"
    assert data["next"]["probs"] == expected
    assert data["step"] == answer["step"] - len(answer["losses"])  # gathered first
    assert "insides" not in session.train_for(20, max_steps=2)
    session.set_insides(None)
    clock[0] += 10
    assert "insides" not in session.train_for(20, max_steps=2)


def test_the_panel_does_not_change_the_losses(monkeypatch):
    plain = new_session()
    watched = new_session()
    watched.set_insides({"probe_name": "emma"})
    monkeypatch.setattr(scheduler, "INSIDES_EVERY", 0.0)
    monkeypatch.setattr(scheduler, "INSIDES_SHARE", math.inf)
    answers = [watched.train_for(60_000, max_steps=5) for _ in range(4)]
    assert all("insides" in a for a in answers)
    losses = [loss for a in answers for loss in a["losses"]]
    assert losses == [plain.trainer.step() for _ in range(20)]


def test_a_model_slow_to_look_inside_is_looked_at_less_often(monkeypatch):
    session = new_session()
    session.set_insides({"probe_name": "mia"})
    clock = [1000.0]

    def slow_insides(**options):  # gathering takes 0.1 s of the clock
        clock[0] += 0.1
        return {"step": session.trainer.step_count}

    monkeypatch.setattr(session, "insides", slow_insides)
    monkeypatch.setattr(scheduler.time, "perf_counter", lambda: clock[0])
    session.panel.at = -1e9
    assert "insides" in session.train_for(20, max_steps=1)
    # At most INSIDES_SHARE of the time: the next one after 0.1 / 0.05 = 2 s, not 0.25 s.
    clock[0] += 1.0
    assert "insides" not in session.train_for(20, max_steps=1)
    clock[0] += 1.0
    assert "insides" in session.train_for(20, max_steps=1)


def test_bad_options_keep_the_last_good_ones():
    session = new_session()
    session.set_insides({"probe_name": "ava", "probe_prefix": "l"})
    for bad in ({"probe_name": "AVA"}, {"probe_prefix": "x" * 50}, {"temperature": -1}, "ava", 3):
        with pytest.raises(TinyGPTError):
            session.set_insides(bad)
    session.panel.at = -1e9
    data = session.train_for(60_000, max_steps=1)["insides"]
    assert data["attention"]["name"] == "ava" and data["next"]["prefix"] == "l"


def test_a_probe_the_new_model_cannot_read_comes_back_as_an_error():
    session = new_session()
    session.set_insides({"probe_name": "emma"})
    session.new_run("XYZ\nZYX\n", RUN)  # a vocabulary without 'e'
    session.panel.at = -1e9
    answer = session.train_for(60_000, max_steps=1)
    assert "does not know" in answer["insides"]["error"]
    assert answer["losses"]  # training went on


def test_set_insides_before_any_model_only_stores_the_options():
    session = Session()
    assert session.set_insides({"probe_name": None, "probe_prefix": ""}) is None
    session.new_run(TEXT, RUN)
    session.panel.at = -1e9
    assert session.train_for(60_000, max_steps=1)["insides"]["step"] == 0


def test_the_bridge_answers_insides_as_json(trained, monkeypatch):
    session = Session()
    session.load_model(dumps(trained.trainer))
    monkeypatch.setattr(web, "_functions", api(session))  # web.py keeps one per page
    args = json.dumps({"options": {"probe_name": "emma", "probe_prefix": "a"}})
    answer = json.loads(web.call("set_insides", args))
    assert answer["ok"]["attention"]["layers"] == trained.trainer.attention("emma")
    answer = json.loads(web.call("set_insides", json.dumps({"options": {"probe_name": "EMMA"}})))
    assert answer["kind"] == "user" and "does not know" in answer["error"]


def test_a_model_too_big_to_probe_live_shows_its_embeddings_only():
    # Probes cost a forward pass per position; past MAX_PROBE_WORK they are left out (with
    # a reason), so one gathering cannot freeze the page, and the embeddings still show.
    big = Trainer(TEXT, n_embd=48, n_head=4, n_layer=2, block_size=16, steps=10)
    assert insides.probe_work(big, 2) > insides.MAX_PROBE_WORK / 4
    data = gather(big, "emma", "")
    assert insides.probe_work(big, 5 + 1) > insides.MAX_PROBE_WORK
    assert data["attention"] is None and data["next"] is None and "too big" in data["too_big"]
    assert len(data["embeddings"]["points"]) == big.tokenizer.vocab_size
    assert insides.default_probe_name(big) == ""  # no generating a name either
    small = Trainer(TEXT, n_embd=16, n_head=4, n_layer=1, block_size=16, steps=10)
    shown = gather(small, "emma", "e")
    assert shown["too_big"] is None and shown["attention"]["name"] == "emma"
    assert shown["next"]["probs"] == [list(p) for p in small.next_token_probs("e", 0.5)]


def test_the_panels_data_is_a_piece_of_the_budget(monkeypatch):
    # A task that gathers the panel's data trains only if a step still fits after it, so
    # the data does not push the task past its budget; the steps come in the next task.
    session = new_session()
    session.set_insides({"probe_name": "mia"})
    clock = [1000.0]

    def slow_insides(**options):  # gathering takes 15 ms of a 20 ms budget
        clock[0] += 0.015
        return {"step": session.trainer.step_count}

    def step(original=session.trainer.train_piece):  # a whole step at batch 1
        clock[0] += 0.008  # and a step 8 ms
        return original()

    monkeypatch.setattr(session, "insides", slow_insides)
    monkeypatch.setattr(session.trainer, "train_piece", step)
    monkeypatch.setattr(scheduler.time, "perf_counter", lambda: clock[0])
    assert session.train_for(20)["losses"] and session.train_for(20)["losses"]  # 8 ms known
    session.panel.at = -1e9
    answer = session.train_for(20)
    assert "insides" in answer and answer["losses"] == [] and answer["ms"] == pytest.approx(15)
    answer = session.train_for(20)
    assert "insides" not in answer and len(answer["losses"]) == 2  # 16 ms of steps
    # A step that fits after the data still runs with it.
    clock[0] += 1.0
    answer = session.train_for(30)
    assert "insides" in answer and len(answer["losses"]) == 1


def test_the_panels_data_says_which_options_it_was_gathered_with():
    # The page drops data gathered with options older than the last set_insides: a frame
    # can bring a training task's data from before a probe change after the new data.
    session = new_session()
    assert session.set_insides({"probe_name": "ab"})["version"] == 1
    session.panel.at = -1e9
    old = session.train_for(60_000, max_steps=1)["insides"]
    assert old["version"] == 1 and old["attention"]["name"] == "ab"
    now = session.set_insides({"probe_name": "abigail"})
    assert now["version"] == 2 and now["attention"]["name"] == "abigail"
    session.panel.at = -1e9
    later = session.train_for(60_000, max_steps=1)["insides"]
    assert later["version"] == 2 and later["attention"]["name"] == "abigail"
    session.new_run("XYZ\nZYX\n", RUN)  # the probe no longer fits: an error, versioned too
    session.panel.at = -1e9
    error = session.train_for(60_000, max_steps=1)["insides"]
    assert "does not know" in error["error"] and error["version"] == 2
