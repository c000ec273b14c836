"""Documents per step (`batch`): the loss of a step is the mean over its documents of
each document's mean loss, the gradients are that mean's, and Adam moves once per step.

Checked here: a batch's gradients against the mean of single-document gradients and
against finite differences of the batch loss, in both engines; the engines against
each other at batch 2 to 5; which documents a step takes; saving and resuming a
batched run; the setting's validation; the CLI's --batch. Batch 1 being the step of
before, bit for bit, is what test_reference.py checks (unchanged).
"""

import json
import random
import re

import pytest
from helpers import TEXT, TINY, tinygpt
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from test_gradients import ALPHABET, entries_to_check, forward_loss, make_case, numeric_grad

from tinygpt import fast, model
from tinygpt.data import Tokenizer
from tinygpt.errors import TinyGPTError
from tinygpt.settings import RUN_DEFAULTS
from tinygpt.trainer import Trainer

ENGINES = {"scalar": model, "fast": fast}
# Runs with batches: two layers, and a block of 6 that the longer names overrun.
SMALL = {**TINY, "n_layer": 2, "block_size": 6, "steps": 40}


def batch_of(chars, block, rng, size):
    """`size` documents: the first longer than the block, the second of one character,
    the rest of random lengths (some longer than the block)."""
    lengths = [block + rng.randint(1, 4), 1] + [rng.randint(1, block + 3) for _ in range(size)]
    return ["".join(rng.choice(chars) for _ in range(n)) for n in lengths[:size]]


def assert_close(got, want, rel, what=""):
    """Every gradient of `got` within `rel` of `want`, relative to the entry, guarded by
    the matrix's largest gradient (as in test_gradients.py)."""
    assert set(got) == set(want)
    for name, mat in want.items():
        assert len(got[name]) == len(mat)
        scale = max(abs(x) for row in mat for x in row)
        for r, (row_g, row_w) in enumerate(zip(got[name], mat)):
            assert len(row_g) == len(row_w)
            for c, (a, b) in enumerate(zip(row_g, row_w)):
                assert isinstance(a, float)
                tol = rel * max(abs(a), abs(b), 1e-3 * scale, 1e-12)
                assert abs(a - b) <= tol, f"{what} {name}[{r}][{c}]: {a!r} vs {b!r}"


def mean_of_single_documents(loss_and_grads, params, config, docs):
    """Mean loss and mean gradients, one document at a time, added up plainly."""
    losses, total = [], None
    for tokens in docs:
        loss, grads = loss_and_grads(params, config, tokens)
        losses.append(loss)
        if total is None:
            total = grads
        else:
            total = {
                name: [[a + b for a, b in zip(ra, rb)] for ra, rb in zip(total[name], grads[name])]
                for name in grads
            }
    n = len(docs)
    return sum(losses) / n, {
        name: [[x / n for x in row] for row in mat] for name, mat in total.items()
    }


# --- the gradient of a batch --------------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("size", [2, 3, 5])
def test_batch_gradient_is_the_mean_of_single_document_gradients(seed, size):
    config, tok, params, chars, rng = make_case(seed)
    docs = [tok.encode(d) for d in batch_of(chars, config.block_size, rng, size)]
    # the single-document gradients, from the scalar engine: independent of the fast
    # engine's batched passes, and of the scalar engine's accumulation
    want_loss, want = mean_of_single_documents(model.loss_and_grads, params, config, docs)
    for name, engine in ENGINES.items():
        loss, grads = engine.batch_loss_and_grads(params, config, docs)
        assert abs(loss - want_loss) <= 1e-12 * want_loss, name
        assert_close(grads, want, 1e-9, name)
    # and the fast engine against its own single-document passes, closer still
    want_loss, want = mean_of_single_documents(fast.loss_and_grads, params, config, docs)
    loss, grads = fast.batch_loss_and_grads(params, config, docs)
    assert abs(loss - want_loss) <= 1e-14 * want_loss
    assert_close(grads, want, 1e-12, "fast vs its single documents")


@pytest.mark.parametrize("seed,engine", [(0, "fast"), (1, "fast"), (2, "scalar")])
def test_batch_gradient_matches_finite_differences(seed, engine):
    config, tok, params, chars, rng = make_case(seed)
    docs = [tok.encode(d) for d in batch_of(chars, config.block_size, rng, 3)]
    loss, grads = ENGINES[engine].batch_loss_and_grads(params, config, docs)
    forward = forward_loss(engine, config, tok)

    def loss_fn(p):  # the batch's loss, forward only: the mean of its documents' losses
        return sum(forward(p, tokens) for tokens in docs) / len(docs)

    assert abs(loss_fn(params) - loss) <= 1e-12 * loss

    checked, nonzero = 0, 0
    for name, r, c in entries_to_check(params, random.Random(seed + 200), per_matrix=2):
        want = numeric_grad(loss_fn, params, name, r, c)
        got = grads[name][r][c]
        assert abs(got - want) / max(abs(want), abs(got), 1e-4) < 1e-6, (
            f"{engine} {name}[{r}][{c}]: analytic {got!r}, numeric {want!r} ({config})"
        )
        checked += 1
        nonzero += abs(want) > 1e-4
    assert nonzero >= checked // 3


# no shrinking: a smaller seed is no simpler case
@settings(max_examples=25, deadline=None, derandomize=True, phases=[Phase.generate])
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(2, 5), repeat=st.booleans())
def test_engines_agree_at_batch_2_to_5(seed, size, repeat):
    config, tok, params, chars, rng = make_case(seed)
    docs = [tok.encode(d) for d in batch_of(chars, config.block_size, rng, size)]
    if repeat:  # a batch larger than the dataset holds the same document more than once
        docs[-1] = docs[0]
    ls, gs = model.batch_loss_and_grads(params, config, docs)
    lf, gf = fast.batch_loss_and_grads(params, config, docs)
    assert abs(ls - lf) <= 1e-9 * ls
    assert_close(gf, gs, 1e-9, f"{config} batch of {size}")


def test_long_batches_split_into_position_groups():
    """A batch of more positions than the unrolled kernels take is cut at document
    boundaries; the gradient still is the mean of the documents'."""
    assert fast.position_groups([5]) == [(0, 5)]
    assert fast.position_groups([100]) == [(0, 100)]
    assert fast.position_groups([30, 30, 30]) == [(0, 60), (60, 90)]
    assert fast.position_groups([10, 100, 10]) == [(0, 10), (10, 110), (110, 120)]
    config = model.Config(n_embd=4, n_head=2, n_layer=1, block_size=40)
    rng = random.Random(4)
    tok = Tokenizer(sorted(ALPHABET[:6]))
    params = model.init_params(config, tok.vocab_size, rng)
    docs = [tok.encode("".join(rng.choice(tok.chars) for _ in range(n))) for n in (45, 3, 30, 39)]
    assert len(fast.position_groups([min(40, len(d) - 1) for d in docs])) == 3
    want_loss, want = mean_of_single_documents(model.loss_and_grads, params, config, docs)
    loss, grads = fast.batch_loss_and_grads(params, config, docs)
    assert abs(loss - want_loss) <= 1e-12 * want_loss
    assert_close(grads, want, 1e-9)


# --- training with batches -------------------------------------------------------------------


def test_a_step_takes_the_next_batch_of_documents_in_shuffled_order():
    t = Trainer(TEXT, batch=4, **SMALL)
    n = len(t.train_docs)
    for k in range(12):
        want = [t.train_docs[(4 * k + j) % n] for j in range(4)]
        assert t.step_docs() == want == t.step_docs(k)
        mean = sum(t.document_loss(d) for d in want) / 4  # before the step moves the weights
        assert abs(t.step() - mean) <= 1e-12 * mean
    assert t.step_count == 12 and len(t.losses) == 12
    # the learning rate still falls per step, not per document
    assert t.optimizer.learning_rate(12) == SMALL.get("lr", RUN_DEFAULTS["lr"]) * (1 - 12 / 40)


def test_batch_one_is_the_default_step():
    a, b = Trainer(TEXT, **SMALL), Trainer(TEXT, batch=1, **SMALL)
    assert [a.step() for _ in range(5)] == [b.step() for _ in range(5)]
    assert a.params == b.params and a.optimizer.m == b.optimizer.m


@pytest.mark.parametrize(
    "text, batch",
    [
        (TEXT, 3),  # documents longer than the block (ångström, maximiliano, ...)
        ("solitaire\n", 3),  # a single document: every batch is it, three times
        ("ab\ncde\nfghij\nk\nlmnopqrs\n", 7),  # a batch larger than the dataset
    ],
)
def test_engines_train_the_same_run_with_batches(text, batch):
    runs = {e: Trainer(text, engine=e, batch=batch, **SMALL) for e in ("scalar", "fast")}
    losses = {e: [t.step() for _ in range(4)] for e, t in runs.items()}
    for a, b in zip(losses["scalar"], losses["fast"], strict=True):
        assert abs(a - b) <= 1e-9
    for name, mat in runs["scalar"].params.items():
        for ra, rb in zip(mat, runs["fast"].params[name]):
            for a, b in zip(ra, rb):
                assert abs(a - b) <= 1e-9


@pytest.mark.parametrize("engine", ["fast", "scalar"])
def test_saving_and_resuming_a_batched_run_is_exact(engine):
    settings_ = dict(SMALL, steps=12, engine=engine, batch=3)
    whole = Trainer(TEXT, **settings_)
    want = [whole.step() for _ in range(7 if engine == "fast" else 4)]
    part = Trainer(TEXT, **settings_)
    first = [part.step() for _ in range(2)]
    saved = json.loads(json.dumps(part.state()))
    assert saved["settings"]["batch"] == 3
    resumed = Trainer.from_state(saved)
    assert resumed.batch == 3 and resumed.step_docs() == whole.step_docs(2)
    rest = [resumed.step() for _ in range(len(want) - 2)]
    assert first + rest == want  # bitwise
    assert resumed.params == whole.params
    assert resumed.optimizer.m == whole.optimizer.m and resumed.optimizer.v == whole.optimizer.v


def test_a_run_saved_before_batches_existed_resumes_with_batch_1():
    t = Trainer(TEXT, **SMALL)
    t.step()
    saved = json.loads(json.dumps(t.state()))
    del saved["settings"]["batch"]
    resumed = Trainer.from_state(saved)
    assert resumed.batch == 1
    assert resumed.step() == t.step()


def test_model_file_records_the_batch():
    t = Trainer(TEXT, batch=5, **SMALL)
    t.step()
    assert t.model_file()["meta"]["batch"] == 5
    assert Trainer(TEXT, **SMALL).model_file()["meta"]["batch"] == 1


@pytest.mark.parametrize("bad", [0, -1, 9, 2.5, "4", True, None, float("nan")])
def test_bad_batch_is_refused(bad):
    with pytest.raises(TinyGPTError, match="batch"):
        Trainer(TEXT, batch=bad)


def test_batch_limits_are_accepted():
    assert Trainer(TEXT, batch=8, **SMALL).batch == 8
    assert Trainer(TEXT, batch=4.0, **SMALL).batch == 4  # a whole number given as a float


# --- the command line ------------------------------------------------------------------


def test_cli_trains_with_batch(tmp_path):
    (tmp_path / "names.txt").write_text(TEXT, encoding="utf-8")
    small = [f"--{k.replace('_', '-')}={v}" for k, v in SMALL.items() if k != "steps"]
    result = tinygpt(["train", "--data", "names.txt", "--steps", "4", "--batch", "3", *small,
                      "--out", "m.json", "--log", "log.jsonl"], tmp_path)
    assert result.returncode == 0, result.stderr
    lines = (tmp_path / "log.jsonl").read_text().splitlines()
    logged = [json.loads(line)["loss"] for line in lines]
    t = Trainer(TEXT, batch=3, **dict(SMALL, steps=4))
    assert logged == [t.step() for _ in range(4)]
    assert json.loads((tmp_path / "m.json").read_text())["meta"]["batch"] == 3
    refused = tinygpt(["train", "--data", "names.txt", "--batch", "65"], tmp_path)
    assert refused.returncode != 0 and len(refused.stderr.splitlines()) == 1
    assert "batch" in refused.stderr and "Traceback" not in refused.stderr


def test_bench_prints_documents_per_second_per_batch_size(tmp_path):
    (tmp_path / "names.txt").write_text(TEXT, encoding="utf-8")
    result = tinygpt(["bench", "--data", "names.txt", "--scalar-steps", "1", "--fast-steps", "8"],
                     tmp_path)
    assert result.returncode == 0, result.stderr
    assert "ratio  fast is" in result.stdout  # the engines' lines stay
    pattern = re.compile(
        r"^  batch +(\d+) +(\d+\.\d\d) ms/step +(\d+) docs/s +(\d+\.\d\d)x batch 1$"
    )
    rows = [m.groups() for m in map(pattern.match, result.stdout.splitlines()) if m]
    assert [int(r[0]) for r in rows] == [1, 4, 8], result.stdout
    assert rows[0][3] == "1.00"
    assert "medians of 1 rounds of 8 documents" in result.stdout
    for _, ms, rate, ratio in rows:
        assert float(ms) > 0 and int(rate) > 0 and float(ratio) > 0
