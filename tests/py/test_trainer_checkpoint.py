"""Trainer runs, saved runs, model files and the validation of everything a user gives."""

import copy
import json
import math
import random

import pytest
from helpers import NAMES, TEXT, TINY, TRAINED, one_line, reference_loss, reference_with
from microgpt_reference import softmax as ref_softmax

from tinygpt import checkpoint, model
from tinygpt.checkpoint import load_model_file
from tinygpt.data import MAX_VOCAB
from tinygpt.errors import TinyGPTError
from tinygpt.trainer import Trainer

SMALL = {**TINY, "steps": 100}  # runs where only the steps and their bits matter
SHAPE = ("n_embd", "n_head", "n_layer", "block_size")


def reference_samples(ref, n, temperature, seed):
    """microgpt.py's inference loop, with its own random generator (the collector paused
    while its graphs of Values come and go, as in tinygpt's scalar step)."""
    with model.collector_paused():
        return _reference_samples(ref, n, temperature, seed)


def _reference_samples(ref, n, temperature, seed):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        keys, values = [[] for _ in range(ref.n_layer)], [[] for _ in range(ref.n_layer)]
        token, chars = ref.BOS, []
        for pos in range(ref.block_size):
            logits = ref.gpt(token, pos, keys, values)
            probs = ref_softmax([lg / temperature for lg in logits])
            token = rng.choices(range(ref.vocab_size), weights=[p.data for p in probs])[0]
            if token == ref.BOS:
                break
            chars.append(ref.uchars[token])
        out.append("".join(chars))
    return out


# --- sampling and model files ----------------------------------------------------------


def test_samples_follow_the_reference_sampling_loop(trained):
    ref = reference_with(trained.trainer.params, trained.trainer.config, TEXT)
    assert ref.uchars == trained.trainer.tokenizer.chars
    for seed, temperature in ((1, 0.5), (2, 1.0)):
        got = trained.trainer.sample(n=15, temperature=temperature, seed=seed)
        assert got == reference_samples(ref, 15, temperature, seed)
    assert len(set(trained.trainer.sample(n=15, temperature=1.0, seed=3))) > 3


def test_same_seed_same_samples_other_seed_other_samples(trained):
    a = trained.trainer.sample(n=20, seed=5)
    assert a == trained.trainer.sample(n=20, seed=5)
    assert a != trained.trainer.sample(n=20, seed=6)
    assert all(len(s) <= trained.trainer.config.block_size for s in a)


def test_model_file_round_trip_gives_same_samples_and_eval(trained):
    d = trained.trainer.model_file(meta={"note": "x"})
    assert d["format"] == "tinygpt-model" and d["version"] == 1
    assert d["config"] == {k: TRAINED[k] for k in SHAPE}
    assert d["chars"] == trained.trainer.tokenizer.chars
    t = trained.trainer
    assert [n for n, _, _ in model.param_shapes(t.config, t.tokenizer.vocab_size)] \
        == list(d["state_dict"])
    assert d["meta"]["note"] == "x" and d["meta"]["steps"] == TRAINED["steps"]
    text = json.dumps(d)
    m = load_model_file(json.loads(text))
    m2 = checkpoint.loads(text)
    assert m.params == trained.trainer.params == m2.params  # floats survive JSON exactly
    for seed in (0, 1, 2):
        assert m.sample(n=10, seed=seed) == trained.trainer.sample(n=10, seed=seed)
        assert m2.sample(n=10, seed=seed, temperature=0.8) == trained.trainer.sample(
            n=10, seed=seed, temperature=0.8)
    docs = NAMES[:30]
    assert m.evaluate_docs(docs) == trained.trainer.evaluate_docs(docs)
    assert m.next_token_probs("em") == trained.trainer.next_token_probs("em")


def test_checkpoint_dumps_loads(trained):
    m = checkpoint.loads(checkpoint.dumps(trained.trainer, {"a": 1}))
    assert m.params == trained.trainer.params and m.meta == {"a": 1}


def test_eval_is_mean_of_independent_per_document_losses(trained):
    docs = NAMES[:25]
    ref = reference_with(trained.trainer.params, trained.trainer.config, TEXT)
    per_doc = [reference_loss(ref, d) for d in docs]
    want = sum(per_doc) / len(per_doc)
    got = trained.trainer.evaluate_docs(docs)
    assert abs(got - want) <= 1e-12 * want
    # and per document, the scalar engine (with backward) gives the same losses
    for d, w in zip(docs[:5], per_doc):
        t = trained.trainer
        loss, _ = model.loss_and_grads(t.params, t.config, t.tokenizer.encode(d))
        assert loss == w


def test_eval_truncates_long_documents_to_the_block(trained):
    long_doc = "abcdefghijklmnoprstuvwyz"
    ref = reference_with(trained.trainer.params, trained.trainer.config, TEXT)
    want = reference_loss(ref, long_doc)
    assert abs(trained.trainer.evaluate_docs([long_doc]) - want) <= 1e-12 * want


def test_validation_loss_is_mean_over_held_out_documents():
    t = Trainer(TEXT, val_fraction=0.2, **SMALL)
    for _ in range(10):
        t.step()
    assert t.val_docs and set(t.val_docs).isdisjoint(t.train_docs)
    ref = reference_with(t.params, t.config, TEXT)
    want = sum(reference_loss(ref, d) for d in t.val_docs) / len(t.val_docs)
    assert abs(t.evaluate() - want) <= 1e-12 * want


def test_attention_and_next_token_probs(trained):
    att = trained.trainer.attention("emma")
    assert len(att) == TRAINED["n_layer"] and {len(layer) for layer in att} == {TRAINED["n_head"]}
    for head in att[0] + att[-1]:
        assert len(head) == 5  # BOS + 4 characters
        for q, row in enumerate(head):
            assert abs(sum(row) - 1) < 1e-12
            assert all(w == 0 for w in row[q + 1:])
    probs = trained.trainer.next_token_probs("", temperature=1.0)
    assert abs(sum(p for _, p in probs) - 1) < 1e-12
    assert [p for _, p in probs] == sorted((p for _, p in probs), reverse=True)
    assert {c for c, _ in probs} == set(trained.trainer.tokenizer.chars) | {""}


def test_prefix_is_kept_and_validated(trained):
    for s in trained.trainer.sample(n=5, prefix="em", seed=1):
        assert s.startswith("em")
    with pytest.raises(TinyGPTError):
        trained.trainer.sample(n=1, prefix="Q")
    with pytest.raises(TinyGPTError):
        trained.trainer.sample(n=1, prefix="a" * trained.trainer.config.block_size)


# --- saving and continuing a run ---------------------------------------------------------


@pytest.mark.parametrize("engine", ["fast", "scalar"])
def test_state_round_trip_continues_exactly(engine):
    settings = dict(SMALL, steps=12, engine=engine)
    whole = Trainer(TEXT, **settings)
    want = [whole.step() for _ in range(8)]
    part = Trainer(TEXT, **settings)
    first = [part.step() for _ in range(3)]
    saved = json.loads(json.dumps(part.state()))
    part.step()  # the original going on must not affect the saved state
    resumed = Trainer.from_state(saved)
    assert resumed.step_count == 3 and resumed.losses == first and resumed.engine == engine
    rest = [resumed.step() for _ in range(5)]
    assert first + rest == want  # bitwise
    assert resumed.losses == want
    assert resumed.params == whole.params
    assert resumed.sample(n=5, seed=1) == whole.sample(n=5, seed=1)


def test_switching_engine_mid_run_continues_the_same_run():
    settings = dict(SMALL, steps=20)
    whole = Trainer(TEXT, **settings)
    want = [whole.step() for _ in range(10)]
    t = Trainer(TEXT, **settings)
    got = [t.step() for _ in range(3)]
    t.engine = "scalar"
    got += [t.step() for _ in range(3)]
    resumed = Trainer.from_state(json.loads(json.dumps(t.state())))
    assert resumed.engine == "scalar"
    resumed.engine = "fast"
    got += [resumed.step() for _ in range(4)]
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert abs(a - b) <= 1e-9
    with pytest.raises(TinyGPTError):
        resumed.engine = "gpu"


def test_finished_run_refuses_more_steps():
    t = Trainer(TEXT, **dict(SMALL, steps=2))
    t.step()
    t.step()
    assert t.done
    with pytest.raises(TinyGPTError):
        t.step()
    assert t.losses and len(t.losses) == 2


@pytest.mark.parametrize(
    "damage",
    [
        lambda s: s.update(format="nope"),
        lambda s: s.update(version=99),
        lambda s: s.pop("settings"),
        lambda s: s.update(step=-1),
        lambda s: s.update(step=500),
        lambda s: s.update(losses=[1.0, 2.0]),
        lambda s: s.update(losses=[]),
        lambda s: s.update(losses="x"),
        lambda s: s["params"].pop("wte"),
        lambda s: s["params"]["wte"][0].__setitem__(0, "x"),
        lambda s: s["optimizer"]["m"].pop(),
        lambda s: s["optimizer"].update(v=None),
        lambda s: s.update(rng=None),
        lambda s: s.update(text=""),
        lambda s: s["settings"].update(n_embd=7),
    ],
)
def test_damaged_run_state_is_a_clear_error(damage):
    t = Trainer(TEXT, **dict(SMALL, steps=5))
    t.step()
    s = json.loads(json.dumps(t.state()))
    damage(s)
    with pytest.raises(TinyGPTError) as e:
        Trainer.from_state(s)
    assert one_line(str(e.value))


@pytest.mark.parametrize("losses", [["x"], [None], [[1.0]]])
def test_non_numeric_saved_losses_are_a_clear_error(losses):
    t = Trainer(TEXT, **dict(SMALL, steps=5))
    t.step()
    s = json.loads(json.dumps(t.state()))
    s["losses"] = losses
    with pytest.raises(TinyGPTError):
        Trainer.from_state(s)


@pytest.mark.parametrize("where", ["m", "v", "losses"])
def test_non_finite_saved_state_is_rejected(where):
    t = Trainer(TEXT, **dict(SMALL, steps=5))
    t.step()
    s = json.loads(json.dumps(t.state()))
    if where == "losses":
        s["losses"][0] = math.nan
    else:
        s["optimizer"][where][0] = math.nan
    with pytest.raises(TinyGPTError):
        Trainer.from_state(s)


def test_not_a_run_state():
    for bad in (None, [], "x", {}):
        with pytest.raises(TinyGPTError):
            Trainer.from_state(bad)


# --- training ---------------------------------------------------------------------------


def test_loss_decreases_over_200_fast_steps():
    t = Trainer(TEXT, steps=200)
    losses = [t.step() for _ in range(200)]
    first, last = sum(losses[:30]) / 30, sum(losses[-30:]) / 30
    assert last < first - 0.3, (first, last)
    assert t.done and t.step_count == 200


def test_learning_rate_decays_to_zero():
    t = Trainer(TEXT, **dict(SMALL, steps=4))
    opt = t.optimizer
    assert [opt.learning_rate(k) for k in range(4)] == [0.01 * (1 - k / 4) for k in range(4)]


def test_fast_adam_update_equals_the_exact_one_up_to_rounding():
    # The fast engine's rearranged update against microgpt.py's, over many steps of
    # random gradients (large and tiny ones, so eps and the bias corrections matter).
    from tinygpt.optim import Adam

    rng = random.Random(3)
    shape = {"a": [[rng.gauss(0, 1) for _ in range(5)] for _ in range(3)], "b": [[0.5, -2.0]]}
    exact, fast = Adam(17, lr=0.05, steps=60), Adam(17, lr=0.05, steps=60)
    p_exact = p_fast = shape
    for k in range(60):
        grads = {n: [[rng.gauss(0, 10 ** rng.randint(-9, 1)) for _ in row] for row in m]
                 for n, m in shape.items()}
        p_exact = exact.update(p_exact, grads, k)
        p_fast = fast.update_fast(p_fast, grads, k)
        for name in shape:
            for ra, rb in zip(p_exact[name], p_fast[name]):
                for a, b in zip(ra, rb):
                    assert abs(a - b) <= 1e-12 * max(1.0, abs(a)), (k, a, b)
    assert p_exact != shape  # it did move the weights
    for a, b in zip(exact.m + exact.v, fast.m + fast.v):
        assert abs(a - b) <= 1e-12 * abs(a)


@pytest.mark.parametrize("lr", [1e6, 1e3, float("inf"), float("nan")])
def test_absurd_learning_rate_is_rejected(lr):
    with pytest.raises(TinyGPTError):
        Trainer(TEXT, lr=lr)


def test_divergence_raises_and_never_returns_nan():
    t = Trainer(TEXT, **dict(SMALL, lr=10, steps=50))
    with pytest.raises(TinyGPTError) as e:
        for _ in range(50):
            loss = t.step()
            assert math.isfinite(loss)
    assert "diverged" in str(e.value) and one_line(str(e.value))
    assert all(math.isfinite(x) for x in t.losses)
    assert len(t.losses) == t.step_count


@pytest.mark.parametrize("engine", ["fast", "scalar"])
@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_non_finite_parameter_raises(engine, bad):
    t = Trainer(TEXT, **dict(SMALL, engine=engine))
    t.params["layer0.attn_wq"][0][0] = bad  # used by every position of every document
    before = t.step_count
    with pytest.raises(TinyGPTError):
        t.step()
    assert t.step_count == before and t.losses == []


# --- corrupt model files -----------------------------------------------------------------


@pytest.fixture(scope="module")
def good_file():
    t = Trainer(TEXT, **dict(SMALL, n_embd=4, block_size=4))
    t.step()
    return t.model_file()


def _set(path, value):
    def damage(d):
        target = d
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return damage


def _delete(path):
    def damage(d):
        target = d
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return damage


CORRUPT = {
    "format": _set(["format"], "tinygpt-run"),
    "no format": _delete(["format"]),
    "version 2": _set(["version"], 2),
    "version string": _set(["version"], "1"),
    "version missing": _delete(["version"]),
    "missing entry": _delete(["state_dict", "lm_head"]),
    "extra entry": _set(["state_dict", "layer1.attn_wq"], [[0.0] * 4] * 4),
    "no state_dict": _delete(["state_dict"]),
    "state_dict list": _set(["state_dict"], []),
    "missing row": lambda d: d["state_dict"]["wpe"].pop(),
    "short row": lambda d: d["state_dict"]["layer0.mlp_fc1"][3].pop(),
    "row not list": _set(["state_dict", "wte", 0], 1.0),
    "matrix number": _set(["state_dict", "wte"], 1.0),
    "nan": _set(["state_dict", "wte", 0, 0], math.nan),
    "inf": _set(["state_dict", "layer0.attn_wo", 1, 2], math.inf),
    "-inf": _set(["state_dict", "lm_head", 0, 3], -math.inf),
    "string number": _set(["state_dict", "wpe", 0, 0], "0.1"),
    "bool number": _set(["state_dict", "wpe", 0, 1], True),
    "null number": _set(["state_dict", "wpe", 0, 1], None),
    "config n_embd mismatch": _set(["config", "n_embd"], 8),
    "config block mismatch": _set(["config", "block_size"], 5),
    "config layers mismatch": _set(["config", "n_layer"], 2),
    "not divisible": _set(["config", "n_head"], 3),
    "n_head zero": _set(["config", "n_head"], 0),
    "negative block": _set(["config", "block_size"], -4),
    "huge n_embd": _set(["config", "n_embd"], 10**9),
    "huge block": _set(["config", "block_size"], 10**6),
    "huge layers": _set(["config", "n_layer"], 1000),
    "float size": _set(["config", "n_embd"], 4.5),
    "string size": _set(["config", "n_embd"], "4"),
    "bool size": _set(["config", "n_layer"], True),
    "config missing key": _delete(["config", "n_layer"]),
    "config extra key": _set(["config", "dropout"], 0.1),
    "config list": _set(["config"], [4, 2, 1, 4]),
    "chars string": lambda d: d.update(chars="".join(d["chars"])),
    "chars empty": _set(["chars"], []),
    "chars multi": lambda d: d["chars"].__setitem__(0, "ab"),
    "chars empty string": lambda d: d["chars"].__setitem__(0, ""),
    "chars number": lambda d: d["chars"].__setitem__(0, 5),
    "chars duplicate": lambda d: d["chars"].__setitem__(1, d["chars"][0]),
    "chars too many": _set(["chars"], [chr(0x4E00 + i) for i in range(MAX_VOCAB + 1)]),
    "chars count mismatch": lambda d: d["chars"].pop(),
    "meta list": _set(["meta"], []),
    "meta huge": _set(["meta"], {"x": "y" * 100_000}),
}


@pytest.mark.parametrize("case", sorted(CORRUPT))
def test_corrupt_model_file_is_a_clear_error(good_file, case):
    d = copy.deepcopy(good_file)
    CORRUPT[case](d)
    with pytest.raises(TinyGPTError) as e:
        load_model_file(d)
    assert one_line(str(e.value))
    # the same through the text reader (Python's json writes NaN and Infinity)
    with pytest.raises(TinyGPTError) as e:
        checkpoint.loads(json.dumps(d))
    assert one_line(str(e.value))


@pytest.mark.parametrize(
    "text",
    ["", "not json", "{", '{"format": "tinygpt-model", "version": 1, "con', "[]", "null",
     "42", '"tinygpt-model"', "[" * 100_000 + "]" * 100_000],
)
def test_unparsable_model_text_is_a_clear_error(text):
    with pytest.raises(TinyGPTError) as e:
        checkpoint.loads(text)
    assert one_line(str(e.value))


def test_truncated_model_file_is_a_clear_error(good_file):
    text = json.dumps(good_file)
    for cut in (1, len(text) // 3, len(text) // 2, len(text) - 1):
        with pytest.raises(TinyGPTError) as e:
            checkpoint.loads(text[:cut])
        assert one_line(str(e.value))


def test_good_file_loads(good_file):
    m = load_model_file(copy.deepcopy(good_file))
    assert len(m.sample(n=3, seed=0)) == 3


# --- settings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings",
    [
        dict(n_embd=10, n_head=4),
        dict(n_embd=16, n_head=3),
        dict(n_embd=0),
        dict(n_embd=-16),
        dict(n_head=0),
        dict(n_head=-1),
        dict(n_layer=0),
        dict(n_layer=-1),
        dict(block_size=0),
        dict(block_size=-5),
        dict(steps=0),
        dict(steps=-10),
        dict(steps=1.5),
        dict(lr=0),
        dict(lr=-0.01),
        dict(lr="0.01"),
        dict(lr=True),
        dict(n_embd=4096),
        dict(block_size=10**6),
        dict(n_layer=100),
        dict(steps=10**12),
        dict(seed=-1),
        dict(seed="x"),
        dict(engine="gpu"),
        dict(val_fraction=0.9),
        dict(val_fraction=-0.1),
        dict(beta1=1.0),
        dict(eps=0),
        dict(dropout=0.1),
        dict(n_embd=16.5),
        dict(n_embd=None),
    ],
)
def test_bad_settings_are_clear_errors(settings):
    with pytest.raises(TinyGPTError) as e:
        Trainer(TEXT, **settings)
    assert one_line(str(e.value))


def test_divisibility_message_names_both_numbers():
    with pytest.raises(TinyGPTError) as e:
        Trainer(TEXT, n_embd=10, n_head=4)
    assert "10" in str(e.value) and "4" in str(e.value) and "divisible" in str(e.value)


def test_vocabulary_beyond_the_limit_is_rejected():
    text = "\n".join(chr(0x4E00 + i) + "a" for i in range(MAX_VOCAB))
    with pytest.raises(TinyGPTError) as e:
        Trainer(text, steps=1)
    assert str(MAX_VOCAB) in str(e.value)


@pytest.mark.parametrize("temperature", [0, -0.5, -1, math.nan, math.inf, "0.5", None])
def test_bad_temperature(trained, temperature):
    with pytest.raises(TinyGPTError):
        trained.trainer.sample(n=2, temperature=temperature)
    with pytest.raises(TinyGPTError):
        trained.trainer.next_token_probs("", temperature=temperature)


@pytest.mark.parametrize("n", [0, -1, 10**6, 2.5, True])
def test_bad_sample_count(trained, n):
    with pytest.raises(TinyGPTError):
        trained.trainer.sample(n=n)
