"""The page's Python API: `Session` as the page drives it, and web.py's JSON dispatch.

Settings arrive as JSON from JavaScript (strings, floats for ints, booleans, null, huge
numbers); every mistake must come back as a message per field, a failed action must
keep the run the page already has, and training in frames must give exactly the
losses of a plain Trainer.
"""

import json
import math

import pytest
from helpers import TEXT, TINY, one_line, reference_with
from microgpt_reference import softmax as ref_softmax

from tinygpt import kernels, scheduler, web
from tinygpt import model as scalar_model
from tinygpt.errors import TinyGPTError
from tinygpt.scheduler import VAL_DOCS, VAL_EVERY
from tinygpt.session import Session, api
from tinygpt.settings import RUN_DEFAULTS, validate
from tinygpt.trainer import Trainer


def plain_losses(n, **settings):
    """The first n losses of a plain Trainer (and the trainer)."""
    t = Trainer(TEXT, **settings)
    return [t.step() for _ in range(n)], t


def train_all(session, max_steps=7):
    """Drive the session as the page does, a few steps per frame, until nothing is left."""
    answers = []
    while True:
        answers.append(session.train_for(60_000, max_steps=max_steps))
        if answers[-1]["done"] and not session.work.measuring:
            return answers


# --- validate(): one message per wrong field ------------------------------------------------


BAD_ALONE = [
    ("steps", "100"), ("steps", 100.5), ("steps", True), ("steps", None), ("steps", 0),
    ("steps", -1), ("steps", 10**7), ("steps", 1e300), ("steps", [100]),
    ("lr", "0.01"), ("lr", 0), ("lr", -0.01), ("lr", 1e6), ("lr", None), ("lr", False),
    ("seed", -1), ("seed", 2**40), ("seed", 1.5), ("seed", "42"),
    ("n_embd", 0), ("n_embd", 10**9), ("n_embd", 16.5), ("n_embd", "16"),
    ("n_head", 0), ("n_head", None), ("n_layer", -1), ("n_layer", 100),
    ("block_size", 0), ("block_size", 10**6), ("block_size", True),
    ("engine", "gpu"), ("engine", None), ("engine", 1), ("engine", "FAST"),
    ("val_fraction", 0.9), ("val_fraction", -0.1), ("val_fraction", "0.1"),
]


@pytest.mark.parametrize("field, value", BAD_ALONE)
def test_validate_names_the_bad_field(field, value):
    problems = validate({**RUN_DEFAULTS, field: value})
    assert set(problems) == {field}
    assert one_line(problems[field])
    with pytest.raises(TinyGPTError):  # what validate refuses, a run refuses too
        Trainer(TEXT, **{field: value})


@pytest.mark.parametrize(
    "field, value",
    [("steps", float("inf")), ("steps", float("nan")), ("n_embd", float("inf")),
     ("lr", 10**400), ("steps", 10**400), ("engine", ["fast"])],
    ids=["steps-inf", "steps-nan", "n_embd-inf", "lr-1e400", "steps-1e400", "engine-list"],
)
def test_validate_survives_values_json_can_still_carry(field, value):
    problems = validate({field: value})
    assert set(problems) == {field} and one_line(problems[field])


def test_validate_reports_every_bad_field_at_once():
    problems = validate({"steps": 0, "lr": "fast", "engine": "gpu", "n_layer": 2.5, "x": 1})
    assert set(problems) == {"steps", "lr", "engine", "n_layer", "x"}
    assert all(one_line(m) for m in problems.values())
    assert "'x'" in problems["x"]
    assert len(set(problems.values())) == len(problems)  # each says its own thing


@pytest.mark.parametrize("n_embd, n_head", [(10, 3), (16, 5), (8, 16)])
def test_validate_checks_fields_together(n_embd, n_head):
    problems = validate({"n_embd": n_embd, "n_head": n_head})
    assert list(problems) == ["n_head"]
    assert str(n_embd) in problems["n_head"] and str(n_head) in problems["n_head"]


@pytest.mark.parametrize(
    "settings",
    [{}, {"steps": 100.0, "n_embd": 8.0, "seed": 0}, {"lr": 1, "engine": "scalar"},
     {"val_fraction": 0, "n_head": 1, "n_embd": 1}, dict(TINY, steps=1)],
)
def test_validate_accepts_what_json_gives_for_good_settings(settings):
    assert validate(settings) == {}
    session = Session()
    info = session.new_run(TEXT, settings)
    for name in ("steps", "seed", "n_embd", "n_head", "n_layer", "block_size"):
        assert type(info["settings"][name]) is int  # 100.0 from JSON becomes 100
        assert info["settings"][name] == settings.get(name, RUN_DEFAULTS[name])


# --- new runs, loaded models and restored runs keep the current run on failure -----------


@pytest.fixture
def running():
    session = Session()
    session.new_run(TEXT, dict(TINY, steps=30, seed=1))
    session.train_for(60_000, max_steps=5)
    return session


def assert_unchanged(session, info, trainer):
    assert session.trainer is trainer and session.model is trainer
    assert session.info() == info
    before = list(trainer.losses)
    session.train_for(60_000, max_steps=1)  # and it still trains
    assert trainer.losses[:-1] == before and len(trainer.losses) == len(before) + 1


@pytest.mark.parametrize(
    "text, settings",
    [("", {}), ("  \n\t\n", {}), ("emma\x00\n", {}), (None, {}), (123, {}),
     ("x" * 2_000_000, {}), (TEXT, {"steps": 0}), (TEXT, {"n_embd": 10, "n_head": 3}),
     (TEXT, {"bogus": 1}), ("\n".join(chr(0x4E00 + i) for i in range(300)), {})],
)
def test_new_run_with_bad_input_keeps_the_previous_run(running, text, settings):
    info, trainer = running.info(), running.trainer
    with pytest.raises(TinyGPTError) as e:
        running.new_run(text, settings)
    assert one_line(str(e.value))
    assert_unchanged(running, info, trainer)


@pytest.mark.parametrize(
    "text",
    ["", "not json", "{", "[]", "null", '{"format": "gguf"}', None, 42,
     '{"format": "tinygpt-model", "version": 2}'],
)
def test_loading_a_bad_model_file_keeps_the_run(running, text):
    info, trainer = running.info(), running.trainer
    with pytest.raises(TinyGPTError) as e:
        running.load_model(text)
    assert one_line(str(e.value))
    assert_unchanged(running, info, trainer)


def test_loading_a_damaged_copy_of_the_runs_own_model_keeps_the_run(running):
    good = running.model_file()
    for damage in (lambda d: d["state_dict"]["wte"].pop(),
                   lambda d: d["state_dict"]["wpe"][0].__setitem__(0, math.nan),
                   lambda d: d["config"].update(n_layer=2)):
        d = json.loads(json.dumps(good))
        damage(d)
        info, trainer = running.info(), running.trainer
        with pytest.raises(TinyGPTError):
            running.load_model(json.dumps(d))
        assert_unchanged(running, info, trainer)


def test_a_loaded_model_generates_but_does_not_train(running):
    text = json.dumps(running.model_file())
    want = running.model.sample(5, 0.7, "", 9)
    info = running.load_model(text)
    assert info["trainable"] is False and "step" not in info
    assert running.model.sample(5, 0.7, "", 9) == want
    with pytest.raises(TinyGPTError):
        running.train_for(10)
    with pytest.raises(TinyGPTError):
        running.run_state()


@pytest.mark.parametrize(
    "damage",
    [lambda s: s.update(val_points=[[100, math.nan]]),
     lambda s: s.update(val_points=[[100, "2.0"]]),
     lambda s: s.update(val_points=[[100, 10**400]]),
     lambda s: s.update(val_points="none"),
     lambda s: s.update(step=999),
     lambda s: s.update(format="tinygpt-model"),
     lambda s: s["params"]["wte"].pop(),
     lambda s: s.update(text="")],
    ids=["nan-val-point", "string-val-point", "huge-int-val-point", "val-points-string",
         "step-beyond", "model-format", "missing-row", "empty-text"],
)
def test_restoring_a_damaged_run_keeps_the_current_one(running, damage):
    state = json.loads(json.dumps(running.run_state()))
    damage(state)
    info, trainer = running.info(), running.trainer
    with pytest.raises(TinyGPTError) as e:
        running.restore_run(state)
    assert one_line(str(e.value))
    assert_unchanged(running, info, trainer)


def test_actions_without_a_run_are_clear_errors():
    s = Session()
    assert s.info() is None
    for action in (lambda: s.train_for(10), lambda: s.run_state(), lambda: s.start_generate(),
                   lambda: s.letters_start(), lambda: s.letters_next(), lambda: s.insides(),
                   lambda: s.set_engine("fast"), lambda: s.model_file(),
                   lambda: s.share_model(), lambda: s.evaluate_text("emma")):
        with pytest.raises(TinyGPTError) as e:
            action()
        assert one_line(str(e.value))


# --- training in frames -----------------------------------------------------------------------


def test_train_for_respects_max_steps_and_matches_a_plain_trainer():
    settings = dict(TINY, steps=12, seed=4, lr=0.02)
    want, plain = plain_losses(12, **settings)
    s = Session()
    s.new_run(TEXT, settings)
    got = []
    for max_steps, step in ((3, 3), (1, 4), (5, 9), (100, 12)):
        answer = s.train_for(60_000, max_steps=max_steps)
        assert answer["step"] == step
        assert answer["done"] == (step == 12)
        got += answer["losses"]
        assert len(got) == step
    assert got == want  # bit for bit
    assert s.trainer.params == plain.params
    assert s.info()["losses"] == want
    answer = s.train_for(60_000)  # a finished run does nothing more
    assert answer["losses"] == [] and answer["step"] == 12


def test_train_for_starts_a_step_only_if_it_fits_the_budget(monkeypatch):
    # A fake clock where every step takes 4 ms: a 10 ms budget fits two steps, not a
    # third that would end at 12 ms (the page's tasks stay near the budget).
    s = Session()
    s.new_run(TEXT, dict(TINY, steps=50))
    clock = [0.0]
    piece = s.trainer.train_piece  # a whole step: these batches of 1 are one piece each

    def slow_piece():
        clock[0] += 0.004
        return piece()

    monkeypatch.setattr(scheduler.time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(s.trainer, "train_piece", slow_piece)
    assert len(s.train_for(10)["losses"]) == 2
    assert len(s.train_for(12.5)["losses"]) == 3
    assert len(s.train_for(1)["losses"]) == 1  # always at least one


def test_train_for_always_makes_progress_even_with_no_budget():
    s = Session()
    s.new_run(TEXT, dict(TINY, steps=5))
    assert s.train_for(0)["step"] == 1
    assert s.train_for(0, max_steps=3)["step"] == 2


def no_kernels_yet(monkeypatch):
    """The fast engine's kernels as a page has them before its idle warm-up: none."""
    monkeypatch.setattr(kernels, "_dots", {})
    monkeypatch.setattr(kernels, "_rowdots", {})
    monkeypatch.setattr(kernels, "_warm", False)


def test_train_for_compiles_the_kernels_before_its_first_step(monkeypatch):
    # Train pressed before the page's idle warm-up is done: each call compiles kernels
    # (at least one length, even with no budget) and no step runs until all are there,
    # since a step would compile the rest inside itself: a long task.
    no_kernels_yet(monkeypatch)
    s = Session()
    s.new_run(TEXT, dict(TINY, steps=5))
    calls = 0
    while s.train_for(0)["step"] == 0:
        calls += 1
        compiled = len(kernels._dots)
        assert compiled == calls, "one length per call with no budget"
        assert calls <= kernels.MAX_UNROLL
    assert calls == kernels.MAX_UNROLL - 1  # the call that compiles the last one trains
    assert all(n in kernels._dots and n in kernels._rowdots
               for n in range(1, kernels.MAX_UNROLL + 1))
    assert s.train_for(0)["step"] == 2  # then a step per call, as always
    # With time to spare, one call compiles them all and trains.
    no_kernels_yet(monkeypatch)
    assert s.train_for(60_000)["step"] == 5


def test_validation_points_every_val_every_steps():
    steps = 2 * VAL_EVERY + 7
    settings = dict(TINY, steps=steps, seed=2, val_fraction=0.2)
    s = Session()
    info = s.new_run(TEXT, settings)
    assert info["val_docs"] > 0
    answers = train_all(s)
    points = [tuple(p) for a in answers for p in a["val_points"]]
    assert [p[0] for p in points] == [VAL_EVERY, 2 * VAL_EVERY, steps]
    assert [tuple(p) for p in s.info()["val_points"]] == points
    assert [loss for a in answers for loss in a["losses"]] == plain_losses(steps, **settings)[0]

    # each point: the mean loss over the held-out documents, with the weights of that step
    t = Trainer(TEXT, **settings)
    for step, loss in points:
        while t.step_count < step:
            t.step()
        want = sum(t.document_loss(d) for d in t.val_docs) / len(t.val_docs)
        assert abs(loss - want) <= 1e-12 * want
        assert abs(loss - t.evaluate()) <= 1e-12 * want


def test_validation_uses_at_most_val_docs_documents(monkeypatch):
    monkeypatch.setattr(scheduler, "VAL_DOCS", 3)
    monkeypatch.setattr(scheduler, "VAL_EVERY", 4)
    settings = dict(TINY, steps=8, val_fraction=0.3)
    s = Session()
    s.new_run(TEXT, settings)
    train_all(s, max_steps=2)
    t = Trainer(TEXT, **settings)
    got = dict(tuple(p) for p in s.info()["val_points"])
    assert sorted(got) == [4, 8] and len(t.val_docs) > 3
    for step in (4, 8):
        while t.step_count < step:
            t.step()
        want = sum(t.document_loss(d) for d in t.val_docs[:3]) / 3
        assert abs(got[step] - want) <= 1e-12 * want
    assert VAL_DOCS >= 1  # the real constant is untouched outside this test


def test_no_validation_without_a_split():
    s = Session()
    s.new_run(TEXT, dict(TINY, steps=VAL_EVERY))
    answers = train_all(s, max_steps=50)
    assert all(a["val_points"] == [] for a in answers) and s.info()["val_points"] == []


# --- the headline loss: one meaning of "the loss" ----------------------------------------------


def test_the_loss_quoted_without_held_out_names_is_the_mean_of_the_last_100_steps():
    s = Session()
    s.new_run(TEXT, dict(TINY, steps=150))
    assert s.info()["loss"] is None  # no step yet
    first = s.train_for(60_000, max_steps=30)
    assert first["loss"] == pytest.approx(math.fsum(first["losses"]) / 30, rel=1e-14)
    last = s.train_for(60_000)
    losses = s.trainer.losses
    assert len(losses) == 150 and last["loss"] == s.info()["loss"]
    assert last["loss"] == pytest.approx(math.fsum(losses[-100:]) / 100, rel=1e-14)
    assert s.model_file()["meta"]["loss"] == last["loss"]
    assert s.trainer.model_file()["meta"]["loss"] == last["loss"]  # the CLI's files too


def test_the_loss_quoted_with_held_out_names_is_the_newest_validation_loss():
    s = Session()
    s.new_run(TEXT, dict(TINY, steps=VAL_EVERY + 5, val_fraction=0.2))
    answer = s.train_for(60_000, max_steps=VAL_EVERY - 1)
    assert answer["loss"] == pytest.approx(math.fsum(answer["losses"]) / (VAL_EVERY - 1))
    answers = train_all(s)
    newest = s.work.val_points[-1]
    assert newest[0] == VAL_EVERY + 5 and len(s.work.val_points) == 2
    assert answers[-1]["loss"] == s.info()["loss"] == newest[1]
    assert s.trainer.evaluate(VAL_DOCS) == pytest.approx(newest[1], rel=1e-12)
    meta = s.model_file()["meta"]
    assert meta["loss"] == meta["val_loss"] == newest[1]


# --- saving and restoring a run ------------------------------------------------------------------


@pytest.mark.parametrize("save_at", [0, 1, 13, VAL_EVERY, VAL_EVERY + 1])
def test_run_state_round_trip_continues_exactly(save_at):
    steps = VAL_EVERY + 20
    settings = dict(TINY, steps=steps, seed=11, val_fraction=0.15)
    whole = Session()
    whole.new_run(TEXT, settings)
    train_all(whole, max_steps=9)

    part = Session()
    part.new_run(TEXT, settings)
    while part.trainer.step_count < save_at:
        part.train_for(60_000, max_steps=save_at - part.trainer.step_count)
    state = json.loads(json.dumps(part.run_state(), allow_nan=False))  # as the page stores it
    part.train_for(60_000, max_steps=3)  # going on must not change what was saved

    resumed = Session()
    info = resumed.restore_run(state)
    assert info["step"] == save_at and info["settings"] == whole.info()["settings"]
    train_all(resumed, max_steps=9)
    assert resumed.trainer.losses == whole.trainer.losses  # bit for bit
    assert resumed.trainer.params == whole.trainer.params
    # validation points too, even when saved while a measurement was under way
    assert resumed.info()["val_points"] == whole.info()["val_points"]
    assert resumed.model.sample(4, 0.5, "", 1) == whole.model.sample(4, 0.5, "", 1)


def test_discard_forgets_the_run_but_never_reuses_a_job_number_or_panel_version():
    s = Session()
    s.new_run(TEXT, dict(TINY, steps=5))
    first = s.start_generate(3)["job"]
    assert s.set_insides({"probe_name": "ab"})["version"] == 1
    s.discard()
    assert s.info() is None and s.work_for(0) == {"job": None, "done": True, "names": None}
    with pytest.raises(TinyGPTError, match="Start a run first"):
        s.finish_run()
    s.new_run(TEXT, dict(TINY, steps=5))
    assert "insides" not in s.train_for(60_000, max_steps=1)  # the panel was turned off
    second = s.start_generate(3)["job"]
    assert second > first  # an answer about the old job cannot pass for the new one
    assert s.set_insides({"probe_name": "ab"})["version"] == 2
    answer = s.work_for(60_000)
    assert answer["job"] == second and answer["done"]


def test_restore_replaces_the_current_run():
    a, b = Session(), Session()
    a.new_run(TEXT, dict(TINY, steps=10, seed=1))
    a.train_for(60_000, max_steps=4)
    b.new_run(TEXT, dict(TINY, steps=20, seed=2))
    b.restore_run(json.loads(json.dumps(a.run_state())))
    assert b.info() == a.info()


# --- switching engines -------------------------------------------------------------------------


def test_set_engine_mid_run():
    settings = dict(TINY, steps=10, seed=6)
    s = Session()
    s.new_run(TEXT, settings)
    t = Trainer(TEXT, **settings)
    plan = [("fast", 3), ("scalar", 2), ("fast", 3), ("scalar", 2)]
    got, want = [], []
    for engine, n in plan:
        s.set_engine(engine)
        t.engine = engine
        got += s.train_for(60_000, max_steps=n)["losses"]
        want += [t.step() for _ in range(n)]
        assert s.info()["settings"]["engine"] == engine
    assert got == want  # the same arithmetic as a Trainer switched at the same steps
    all_fast, _ = plain_losses(10, **settings)
    assert all(abs(a - b) <= 1e-9 for a, b in zip(got, all_fast, strict=True))
    with pytest.raises(TinyGPTError):
        s.set_engine("gpu")
    assert s.info()["settings"]["engine"] == "scalar"


# --- generating and explaining ---------------------------------------------------------------


def test_generate(trained):
    names = trained.model.sample(12, 0.7, "", 3)
    assert len(names) == 12
    assert names == trained.model.sample(12, 0.7, "", 3)
    assert names == trained.trainer.sample(12, 0.7, "", 3)
    chars = set(trained.trainer.tokenizer.chars)
    assert all(set(n) <= chars and len(n) <= trained.trainer.config.block_size for n in names)
    assert all(n.startswith("ja") for n in trained.model.sample(5, 1.0, "ja", 1))
    for bad in ({"n": 0}, {"n": 1.5}, {"temperature": 0}, {"temperature": -1},
                {"temperature": None}, {"prefix": "Q"}, {"prefix": 5}):
        with pytest.raises(TinyGPTError):
            trained.model.sample(**{"n": 3, **bad})


@pytest.mark.parametrize("context, temperature", [("", 1.0), ("em", 0.5), ("jürg", 2.0)])
def test_next_probs_are_the_softmax_of_the_reference_logits(trained, context, temperature):
    probs = trained.model.next_token_probs(context, temperature)
    assert abs(sum(p for _, p in probs) - 1) < 1e-12
    assert all(0 <= p <= 1 for _, p in probs)
    assert [p for _, p in probs] == sorted((p for _, p in probs), reverse=True)
    chars = trained.trainer.tokenizer.chars
    assert sorted(c for c, _ in probs) == sorted(chars + [""])
    # independently: microgpt.py's forward over BOS + context, softmax(logits / T)
    ref = reference_with(trained.model.params, trained.model.config, TEXT)
    keys, values = [[] for _ in range(ref.n_layer)], [[] for _ in range(ref.n_layer)]
    tokens = [ref.BOS] + [ref.uchars.index(c) for c in context]
    for pos, token in enumerate(tokens):
        logits = ref.gpt(token, pos, keys, values)
    want = [p.data for p in ref_softmax([lg / temperature for lg in logits])]
    got = dict(probs)
    for i, p in enumerate(want):
        name = "" if i == ref.BOS else ref.uchars[i]
        assert abs(got[name] - p) <= 1e-12


def test_next_probs_refuses_bad_input(trained):
    for context, temperature in (("Q", 1.0), ("", 0), ("", -2), ("", "hot"), ("a" * 8, 1.0)):
        with pytest.raises(TinyGPTError):
            trained.model.next_token_probs(context, temperature)


@pytest.mark.parametrize("text", ["", "emma", "ethanolivia"])
def test_attention_rows_sum_to_one_and_are_causal(trained, text):
    config = trained.trainer.config
    att = trained.model.attention(text)
    n = min(1 + len(text), config.block_size)
    assert len(att) == config.n_layer and all(len(layer) == config.n_head for layer in att)
    # independently: the scalar engine, one position at a time, recording its weights
    tok = trained.trainer.tokenizer
    tokens = ([tok.bos] + tok.ids(text))[:n]
    params = trained.trainer.params
    state = {k: [[scalar_model.Value(w) for w in row] for row in m] for k, m in params.items()}
    keys, values = [[] for _ in range(config.n_layer)], [[] for _ in range(config.n_layer)]
    record = [[[] for _ in range(config.n_head)] for _ in range(config.n_layer)]
    for pos, token in enumerate(tokens):
        scalar_model.gpt(state, config, token, pos, keys, values, attention=record)
    for layer, ref_layer in zip(att, record, strict=True):
        for head, ref_head in zip(layer, ref_layer, strict=True):
            assert len(head) == n
            for q, row in enumerate(head):
                assert len(row) == n
                assert abs(sum(row) - 1) < 1e-12
                assert all(w == 0 for w in row[q + 1:])  # no looking ahead
                assert all(w > 0 for w in row[: q + 1])
                for a, b in zip(row[: q + 1], ref_head[q], strict=True):
                    assert abs(a - b) <= 1e-12
    with pytest.raises(TinyGPTError):
        trained.model.attention("Q")


# --- web.py: the JSON boundary ------------------------------------------------------------------


@pytest.fixture
def call(monkeypatch):
    """web.call on a fresh Session (web.py keeps one per page)."""
    functions = api(Session())
    monkeypatch.setattr(web, "_functions", functions)

    def call(name, **args):
        answer = web.call(name, json.dumps(args))
        return json.loads(answer)  # strict JSON: no NaN sneaks through

    call.functions = functions
    return call


def start_run(call, settings):
    """A run started through the bridge, as the page starts one."""
    assert call("begin_run", text=TEXT, settings=settings) == {"ok": None}
    while not call("build_run", budget_ms=20)["ok"]["done"]:
        pass
    return call("finish_run")["ok"]


def test_web_call_returns_results(call):
    assert call("validate", settings={"steps": 0}) == {"ok": validate({"steps": 0})}
    info = start_run(call, dict(TINY, steps=5))
    assert info["step"] == 0 and info["trainable"] is True
    answer = call("train_for", budget_ms=60_000, max_steps=2)["ok"]
    assert answer["step"] == 2 and answer["losses"] == plain_losses(2, **TINY, steps=5)[0]


def test_web_call_turns_tinygpt_errors_into_user_errors(call):
    start_run(call, dict(TINY, steps=5))
    for name, args in (("begin_run", {"text": "  ", "settings": {}}),
                       ("open_model_file", {"header": "{", "rows": None, "weights": ""}),
                       ("letters_start", {"temperature": 0}),
                       ("set_engine", {"engine": "gpu"})):
        answer = call(name, **args)
        assert set(answer) == {"error", "kind"} and answer["kind"] == "user"
        assert one_line(answer["error"])
    assert call("info")["ok"]["settings"]["n_embd"] == TINY["n_embd"]  # the run is kept


def test_web_call_reports_unexpected_exceptions_as_bugs(call):
    def broken():
        return {}["missing"]

    call.functions["broken"] = broken
    answer = call("broken")
    assert answer["kind"] == "bug" and set(answer) == {"error", "kind", "traceback"}
    assert "KeyError" in answer["error"] and "missing" in answer["error"]
    assert "Traceback" in answer["traceback"] and "def broken" not in answer["error"]
    assert "broken" in answer["traceback"]  # it says where


def test_web_call_refuses_unknown_names_and_bad_arguments(call):
    answer = call("train_forever")
    assert answer["kind"] == "bug" and "train_forever" in answer["error"]
    assert "train_for" in answer["error"]  # and says what exists
    assert "KeyError" not in answer["error"]
    answer = json.loads(web.call("info", "[1, 2]"))
    assert "error" in answer and "JSON object" in answer["error"]
    answer = json.loads(web.call("info", "{not json"))
    assert answer["kind"] == "bug" and "error" in answer
    answer = call("begin_run", txt=TEXT)
    assert answer["kind"] == "bug" and "txt" in answer["error"]


def test_web_call_never_answers_invalid_json(call):
    call.functions["nan"] = lambda: math.nan
    answer = call("nan")
    assert "error" in answer and answer["kind"] == "bug"


def test_a_run_built_in_pieces_is_new_runs_run():
    whole, pieces = Session(), Session()
    whole.new_run(TEXT, {**TINY, "steps": 20})
    assert pieces.begin_run(TEXT, {**TINY, "steps": 20}, "x") is None
    assert pieces.model is None  # nothing replaced until the last part
    # A budget of 0 ms: one piece per call (the shuffle, then one row of weights each).
    calls = 1
    while not pieces.build_run(0)["done"]:
        calls += 1
    rows = sum(len(matrix) for matrix in whole.model.params.values())
    assert calls == 1 + rows
    assert pieces.model is None
    info = pieces.finish_run()
    assert info["step"] == 0 and info["dataset"] == "x"
    assert pieces.model.params == whole.model.params
    assert pieces.trainer.train_docs == whole.trainer.train_docs
    assert [whole.trainer.step() for _ in range(5)] == [pieces.trainer.step() for _ in range(5)]
    with pytest.raises(TinyGPTError, match="Start a run first"):
        pieces.finish_run()  # each begin_run is finished once
    with pytest.raises(TinyGPTError, match="Start a run first"):
        pieces.build_run(20)
    with pytest.raises(TinyGPTError):
        pieces.begin_run("", {})  # bad input: the current run stays
    with pytest.raises(TinyGPTError, match="Start a run first"):
        pieces.finish_run()
    assert pieces.trainer.step_count == 5


def test_finish_run_builds_what_build_run_left():
    whole = Session()
    whole.new_run(TEXT, {**TINY, "steps": 20})
    for pieces_first in (0, 1, 7):
        session = Session()
        session.begin_run(TEXT, {**TINY, "steps": 20})
        for _ in range(pieces_first):
            assert not session.build_run(0)["done"]
        session.finish_run()
        assert session.model.params == whole.model.params
