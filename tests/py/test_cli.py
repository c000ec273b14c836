"""The command line as people use it: `python -m tinygpt ...`.

Every bad input must end with a non-zero exit, exactly one line on stderr, no traceback,
and no file left behind (not even a temporary one). The good paths must print what the
README promises and agree with the same run done in-process. The good paths, an
interrupted run and a few refusals run in a subprocess, as people run it; the many
other refusals run `main()` in this process (what `python -m tinygpt` runs, with the
same exit code and output), which keeps this file fast.
"""

import copy
import json
import math
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import (
    ROOT,
    SMALL,
    SMALL_ARGS,
    TEXT,
    assert_refused,
    child_env,
    listing,
    reference_loss,
    reference_with,
    tinygpt,
    tinygpt_here,
)
from microgpt_reference import MicroGPT

from tinygpt import checkpoint
from tinygpt.data import MAX_TEXT_CHARS, MAX_VOCAB, parse_documents
from tinygpt.trainer import Trainer


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "names.txt").write_text(TEXT, encoding="utf-8")
    return tmp_path


def refused_train(folder, data_bytes=None, extra=(), fragments=()):
    """`train` with --out and --log in the folder must be refused and leave nothing."""
    if data_bytes is not None:
        (folder / "data.txt").write_bytes(data_bytes)
    before = listing(folder)
    data = "data.txt" if data_bytes is not None else "names.txt"
    args = ["train", "--data", data, "--steps", "3", *SMALL_ARGS, "--out", "model.json",
            "--log", "steps.jsonl", *extra]
    result = tinygpt_here(args, folder)
    assert_refused(result, folder, before, *fragments)
    return result


# --- bad data ----------------------------------------------------------------------------


def test_missing_data_file(folder):
    before = listing(folder)
    result = tinygpt_here(["train", "--data", "nope.txt", "--out", "m.json"], folder)
    assert_refused(result, folder, before, "nope.txt", "does not exist")


def test_data_file_that_is_a_folder(folder):
    (folder / "sub").mkdir()
    before = listing(folder)
    result = tinygpt_here(["train", "--data", "sub", "--out", "m.json"], folder)
    assert_refused(result, folder, before)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root reads files whatever their mode")
def test_unreadable_data_file(folder):
    (folder / "names.txt").chmod(0)
    try:
        before = listing(folder)
        result = tinygpt_here(["train", "--data", "names.txt", "--out", "m.json"], folder)
        assert_refused(result, folder, before, "names.txt")
    finally:
        (folder / "names.txt").chmod(0o644)


@pytest.mark.parametrize("data", [b"", b"\n", b"   \n\t\n  \r\n", b" " * 1000],
                         ids=["empty", "newline", "whitespace", "spaces"])
def test_empty_or_whitespace_only_data(folder, data):
    refused_train(folder, data, fragments=["empty"])


@pytest.mark.parametrize(
    "data",
    [bytes(range(256)) * 4, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"emma\x00\x00\x00\nava\n",
     "jürgen\nzoé\n".encode("latin-1"), b"PK\x03\x04\x14\x00\x00\x00\x08\x00"],
    ids=["all-bytes", "png", "nul-in-utf8", "latin-1", "zip"],
)
def test_binary_data(folder, data):
    refused_train(folder, data)


@pytest.mark.parametrize("chars", [MAX_TEXT_CHARS + 1_000, 4 * MAX_TEXT_CHARS + 1_000],
                         ids=["over-chars", "over-bytes"])
def test_data_file_too_large_states_the_limit(folder, chars):
    line = "abcdefghij" * 3 + "\n"
    data = (line * (chars // len(line) + 1)).encode()
    refused_train(folder, data, fragments=[f"{MAX_TEXT_CHARS:,}"])


def test_vocabulary_beyond_the_limit(folder):
    data = "\n".join(chr(0x4E00 + i) * 2 for i in range(MAX_VOCAB + 10)).encode()
    refused_train(folder, data, fragments=[str(MAX_VOCAB)])


def test_control_characters(folder):
    refused_train(folder, b"emma\nav\x07a\n")


# --- bad settings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--n-embd", "10", "--n-head", "3"], "divisible"),
        (["--n-embd", "0"], "n_embd"),
        (["--n-embd", "-8"], "n_embd"),
        (["--n-head", "0"], "n_head"),
        (["--n-head", "-2"], "n_head"),
        (["--n-layer", "0"], "n_layer"),
        (["--n-layer", "-1"], "n_layer"),
        (["--block-size", "0"], "block_size"),
        (["--block-size", "-4"], "block_size"),
        (["--n-embd", "100000"], "n_embd"),
        (["--steps", "0"], "steps"),
        (["--steps", "-5"], "steps"),
        (["--steps", "99999999999999999999"], "steps"),
        (["--lr", "0"], "learning rate"),
        (["--lr", "-0.01"], "learning rate"),
        (["--lr", "nan"], "learning rate"),
        (["--lr", "inf"], "learning rate"),
        (["--lr", "1e9"], "learning rate"),
        (["--seed", "-1"], "seed"),
        (["--val-fraction", "0.9"], "validation"),
        (["--val-fraction", "-0.1"], "validation"),
    ],
)
def test_bad_numbers(folder, extra, fragment):
    refused_train(folder, extra=extra, fragments=[fragment])


@pytest.mark.parametrize(
    "args",
    [
        ["train", "--data", "names.txt", "--steps", "abc"],
        ["train", "--data", "names.txt", "--steps", "1.5"],
        ["train", "--data", "names.txt", "--lr", "fast"],
        ["train", "--data", "names.txt", "--n-embd", "1e3"],
        ["train", "--data", "names.txt", "--engine", "gpu"],
        ["train", "--data", "names.txt", "--bogus", "1"],
        ["train", "--steps", "3"],
        ["train", "--data"],
        ["sample", "--model", "m.json", "--n", "abc"],
        ["sample", "--model", "m.json", "--temperature", "warm"],
        ["sample"],
        ["eval", "--model", "m.json"],
        ["bench", "--fast-steps", "x"],
        ["fly"],
        [],
    ],
)
def test_bad_arguments(folder, args):
    before = listing(folder)
    result = tinygpt_here(args, folder)
    assert_refused(result, folder, before)
    assert "--help" in result.stderr  # points to the help, in one line
    assert "usage:" not in result.stderr


def test_out_in_a_folder_that_does_not_exist(folder):
    refused_train(folder, extra=["--out", "missing/model.json"], fragments=["folder"])
    assert not (folder / "missing").exists()


def test_log_in_a_folder_that_does_not_exist(folder):
    refused_train(folder, extra=["--log", "missing/steps.jsonl"], fragments=["folder"])


@pytest.mark.parametrize("option", ["--out", "--log"])
def test_output_that_is_a_folder(folder, option):
    (folder / "sub").mkdir()
    refused_train(folder, extra=[option, "sub"])
    assert listing(folder / "sub") == []


def test_out_and_log_the_same_file(folder):
    refused_train(folder, extra=["--out", "same.json", "--log", "same.json"])


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc")
def test_out_where_nothing_can_be_written(folder):
    result = tinygpt_here(["train", "--data", "names.txt", "--steps", "2", *SMALL_ARGS,
                      "--out", "/proc/tinygpt-model.json"], folder)
    assert result.returncode != 0
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert "step 1" not in result.stdout  # refused before training, not after


def test_diverging_training_saves_nothing(folder):
    # lr 10 (the largest allowed) throws the weights so far that the loss overflows
    result = refused_train(folder, extra=["--steps", "50", "--lr", "10"],
                           fragments=["diverged", "learning rate"])
    assert "step 1 / 50" in result.stdout  # it did train before it diverged


def test_interrupted_training_leaves_nothing(folder):
    before = listing(folder)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tinygpt", "train", "--data", "names.txt", "--steps", "100000",
         *SMALL_ARGS, "--out", "model.json", "--log", "steps.jsonl"],
        cwd=folder, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # Ctrl-C's default, even when this runs where SIGINT is ignored (a shell's
        # background job), which the child would inherit and never stop.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert proc.stdout.readline().startswith("step 1 / 100000")
        assert any(name.endswith(".tmp") for name in os.listdir(folder))  # being written
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode != 0
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert listing(folder) == before


# --- bad model files ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def model_file():
    t = Trainer(TEXT, steps=20, **SMALL)
    for _ in range(5):
        t.step()
    return t.model_file()


def _damaged(good, change):
    d = copy.deepcopy(good)
    change(d)
    return json.dumps(d)


def _set_weight(value):
    def change(d):
        d["state_dict"]["layer0.attn_wv"][1][2] = value
    return change


DAMAGED = {
    "truncated": lambda good: json.dumps(good)[: len(json.dumps(good)) // 2],
    "truncated end": lambda good: json.dumps(good)[:-1],
    "empty": lambda good: "",
    "not json": lambda good: "emma\nolivia\n",
    "json list": lambda good: "[1, 2, 3]",
    "other format": lambda good: _damaged(good, lambda d: d.update(format="gguf")),
    "run state": lambda good: _damaged(good, lambda d: d.update(format="tinygpt-run")),
    "other version": lambda good: _damaged(good, lambda d: d.update(version=2)),
    "missing row": lambda good: _damaged(good, lambda d: d["state_dict"]["wte"].pop()),
    "short row": lambda good: _damaged(good, lambda d: d["state_dict"]["lm_head"][0].pop()),
    "missing matrix": lambda good: _damaged(good, lambda d: d["state_dict"].pop("wpe")),
    "nan": lambda good: _damaged(good, _set_weight(math.nan)),
    "infinity": lambda good: _damaged(good, _set_weight(-math.inf)),
    "1e999": lambda good: _damaged(good, _set_weight(0.123456789)).replace(
        "0.123456789", "1e999", 1),
    "huge int": lambda good: _damaged(good, _set_weight(10**400)),
    "string weight": lambda good: _damaged(good, _set_weight("0.1")),
    "config n_embd": lambda good: _damaged(good, lambda d: d["config"].update(n_embd=16)),
    "config n_layer": lambda good: _damaged(good, lambda d: d["config"].update(n_layer=2)),
    "config block": lambda good: _damaged(good, lambda d: d["config"].update(block_size=9)),
    "config n_head": lambda good: _damaged(good, lambda d: d["config"].update(n_head=3)),
    "vocab mismatch": lambda good: _damaged(good, lambda d: d["chars"].pop()),
    "nan in meta": lambda good: _damaged(good, lambda d: d["meta"].update(loss=math.nan)),
}


@pytest.mark.parametrize("case", sorted(DAMAGED))
@pytest.mark.parametrize("command", ["sample", "eval"])
def test_damaged_model_files(folder, model_file, case, command):
    text = DAMAGED[case](model_file)
    (folder / "model.json").write_text(text, encoding="utf-8")
    checkpoint.loads(json.dumps(model_file))  # the undamaged file is fine
    before = listing(folder)
    args = ["sample", "--model", "model.json", "--n", "3"] if command == "sample" else [
        "eval", "--model", "model.json", "--data", "names.txt"]
    result = tinygpt_here(args, folder)
    assert_refused(result, folder, before)
    assert result.stdout == ""


def test_missing_model_file(folder):
    before = listing(folder)
    assert_refused(tinygpt_here(["sample", "--model", "nope.json"], folder), folder, before, "nope")


@pytest.fixture
def saved(folder, model_file):
    (folder / "model.json").write_text(json.dumps(model_file), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--temperature", "0"], "temperature"),
        (["--temperature", "-0.5"], "temperature"),
        (["--temperature", "nan"], "temperature"),
        (["--temperature", "inf"], "temperature"),
        (["--n", "0"], "names"),
        (["--n", "-3"], "names"),
        (["--prefix", "QQ"], "vocabulary"),
        (["--prefix", "a" * 40], "too long"),
    ],
)
def test_bad_sampling_options(saved, extra, fragment):
    before = listing(saved)
    result = tinygpt_here(["sample", "--model", "model.json", *extra], saved)
    assert_refused(result, saved, before, fragment)
    assert result.stdout == ""


def test_eval_on_text_with_unknown_characters(saved):
    (saved / "other.txt").write_text("emma\nQuinn\n", encoding="utf-8")
    before = listing(saved)
    result = tinygpt_here(["eval", "--model", "model.json", "--data", "other.txt"], saved)
    assert_refused(result, saved, before, "vocabulary")


def test_eval_on_empty_data(saved):
    (saved / "empty.txt").write_text("\n \n", encoding="utf-8")
    before = listing(saved)
    result = tinygpt_here(["eval", "--model", "model.json", "--data", "empty.txt"], saved)
    assert_refused(result, saved, before, "empty")


# --- good paths ----------------------------------------------------------------------------


STEP_LINE = re.compile(r"^step (\d+) / (\d+) \| loss (\d+\.\d{4})$")


@pytest.mark.parametrize("engine", ["fast", "scalar"])
def test_train_prints_steps_and_logs_full_precision_losses(folder, engine):
    steps = 8 if engine == "fast" else 3
    args = ["train", "--data", "names.txt", "--steps", str(steps), "--seed", "7", *SMALL_ARGS,
            "--lr", "0.02", "--out", "model.json", "--log", "steps.jsonl"]
    if engine == "scalar":
        args += ["--engine", "scalar"]
    result = tinygpt(args, folder)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert listing(folder) == ["model.json", "names.txt", "steps.jsonl"]  # no temp files

    t = Trainer(TEXT, steps=steps, seed=7, lr=0.02, engine=engine, **SMALL)
    want = [t.step() for _ in range(steps)]

    log = [json.loads(line) for line in (folder / "steps.jsonl").read_text().splitlines()]
    assert [entry["step"] for entry in log] == list(range(1, steps + 1))
    assert [set(entry) for entry in log] == [{"step", "loss"}] * steps
    assert [entry["loss"] for entry in log] == want  # full precision: bit for bit

    printed = [STEP_LINE.match(line) for line in result.stdout.splitlines()]
    printed = [m for m in printed if m]
    assert [int(m[1]) for m in printed] == list(range(1, steps + 1))
    assert {int(m[2]) for m in printed} == {steps}
    assert [m[3] for m in printed] == [f"{x:.4f}" for x in want]

    saved = checkpoint.loads((folder / "model.json").read_text(encoding="utf-8"))
    assert saved.params == t.params
    assert saved.config == t.config and saved.tokenizer.chars == t.tokenizer.chars
    # the loss TinyGPT quotes (no names held out): the mean of the last 100 step losses
    assert saved.meta["steps"] == steps and saved.meta["val_loss"] is None
    assert saved.meta["loss"] == pytest.approx(math.fsum(want) / steps, rel=1e-14)
    mask = os.umask(0)
    os.umask(mask)
    assert (folder / "model.json").stat().st_mode & 0o777 == 0o666 & ~mask


def test_train_without_outputs_writes_nothing(folder):
    before = listing(folder)
    result = tinygpt(["train", "--data", "names.txt", "--steps", "2", *SMALL_ARGS], folder)
    assert result.returncode == 0, result.stderr
    assert len([ln for ln in result.stdout.splitlines() if STEP_LINE.match(ln)]) == 2
    assert listing(folder) == before


def test_train_reports_validation_loss(folder):
    result = tinygpt(["train", "--data", "names.txt", "--steps", "4", *SMALL_ARGS,
                      "--val-fraction", "0.2"], folder)
    assert result.returncode == 0, result.stderr
    t = Trainer(TEXT, steps=4, val_fraction=0.2, **SMALL)
    for _ in range(4):
        t.step()
    assert f"validation loss {t.evaluate():.4f} on {len(t.val_docs)} names" in result.stdout


def test_sample_prints_n_names_reproducibly(saved, model_file):
    def sample(*extra):
        result = tinygpt(["sample", "--model", "model.json", *extra], saved)
        assert result.returncode == 0 and result.stderr == ""
        return result.stdout.split("\n")[:-1]

    first = sample("--n", "7", "--seed", "3", "--temperature", "0.8")
    assert len(first) == 7
    assert sample("--n", "7", "--seed", "3", "--temperature", "0.8") == first
    assert sample("--n", "7", "--seed", "4", "--temperature", "0.8") != first
    model = checkpoint.load_model_file(copy.deepcopy(model_file))
    assert first == model.sample(7, 0.8, "", 3)
    assert all(set(name) <= set(model.tokenizer.chars) for name in first)
    assert len(sample()) == 20  # the default --n
    with_prefix = sample("--n", "5", "--seed", "1", "--prefix", "em")
    assert len(with_prefix) == 5 and all(name.startswith("em") for name in with_prefix)


def test_eval_prints_the_mean_document_loss(folder):
    result = tinygpt(["train", "--data", "names.txt", "--steps", "6", *SMALL_ARGS, "--seed", "5",
                      "--val-fraction", "0.25", "--out", "model.json"], folder)
    assert result.returncode == 0, result.stderr
    t = Trainer(TEXT, steps=6, seed=5, val_fraction=0.25, **SMALL)
    for _ in range(6):
        t.step()
    (folder / "val.txt").write_text("\n".join(t.val_docs) + "\n", encoding="utf-8")

    result = tinygpt(["eval", "--model", "model.json", "--data", "val.txt"], folder)
    assert result.returncode == 0 and result.stderr == ""
    assert len(result.stdout.splitlines()) == 1
    answer = json.loads(result.stdout)
    assert set(answer) == {"loss", "docs"}
    assert answer["docs"] == len(t.val_docs)
    assert answer["loss"] == t.evaluate()
    meta = json.loads((folder / "model.json").read_text())["meta"]
    assert meta["loss"] == meta["val_loss"] == t.evaluate()  # held out: the quoted loss

    # and independently: microgpt.py's forward, one document at a time, file order
    ref = reference_with(t.params, t.config, TEXT)
    docs = parse_documents((folder / "val.txt").read_text(encoding="utf-8"))
    want = sum(reference_loss(ref, d) for d in docs) / len(docs)
    assert abs(answer["loss"] - want) <= 1e-12 * want


BENCH = {
    "scalar": re.compile(r"^\s*scalar\s+(\d+\.\d\d) ms/step \(median of (\d+) steps\)$"),
    "fast same": re.compile(r"^\s*fast\s+(\d+\.\d\d) ms/step \(median of the same (\d+) steps\)$"),
    "fast all": re.compile(r"^\s*fast\s+(\d+\.\d\d) ms/step \(median of (\d+) steps\), (\d+) "
                           r"steps/s$"),
    "ratio": re.compile(r"^\s*ratio\s+fast is (\d+\.\d)x faster than scalar$"),
}


def test_bench_prints_both_engines_and_their_ratio(folder):
    result = tinygpt(["bench", "--data", "names.txt", "--scalar-steps", "2",
                      "--fast-steps", "4"], folder)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Python ") and "names.txt" in lines[0]
    found = {}
    for line in lines[1:]:
        for key, pattern in BENCH.items():
            m = pattern.match(line)
            if m:
                found[key] = m
    assert set(found) == set(BENCH), result.stdout
    assert found["scalar"][2] == "2" and found["fast same"][2] == "2"
    assert found["fast all"][2] == "4"
    scalar, fast_same = float(found["scalar"][1]), float(found["fast same"][1])
    assert scalar > 0 and fast_same > 0
    # the ratio is the one of the printed times (up to their rounding)
    ratio = float(found["ratio"][1])
    assert abs(ratio - scalar / fast_same) <= 0.05 + scalar / fast_same * 0.02
    assert listing(folder) == ["names.txt"]


def test_bench_refuses_bad_step_counts(folder):
    before = listing(folder)
    result = tinygpt_here(["bench", "--data", "names.txt", "--scalar-steps", "0"], folder)
    assert_refused(result, folder, before)


# --- microgpt.py's own run: names.txt, the microgpt recipe, its 20 samples ------------------

MAKEMORE = ROOT / "public" / "data" / "makemore_names.txt"
SAMPLE_LINE = re.compile(r"^sample +(\d+): (.*)$")


def published_output():
    """microgpt.py's published output on names.txt, as public/data/SOURCES.md quotes it (from
    the output its users know): the step lines, the header, the sample lines it shows, and
    its closing note "(N samples in all, at temperature T, the last one: NAME)"."""
    text = (ROOT / "public" / "data" / "SOURCES.md").read_text(encoding="utf-8")
    quoted = [line[4:] for line in text.splitlines() if line.startswith("    ")]
    note = re.search(r"\((\d+) samples in all, at temperature ([\d.]+), the last one: (\w+)\)",
                     text)
    count = int(note[1])
    return {
        "steps": [line for line in quoted if line.startswith("step ")],
        "header": next(line for line in quoted if line.startswith("---")),
        "samples": [line for line in quoted if SAMPLE_LINE.match(line)]
        + [f"sample {count:2d}: {note[3]}"],
        "count": count,
        "temperature": float(note[2]),
    }


@pytest.fixture(scope="module")
def names_txt_run(tmp_path_factory):
    """`python -m tinygpt train --data names.txt`: microgpt.py's run (the microgpt recipe is
    the default), its model saved to check the samples independently."""
    folder = tmp_path_factory.mktemp("names_txt")
    result = tinygpt(["train", "--data", str(MAKEMORE), "--out", "model.json"], folder,
                     timeout=600)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    return folder, result.stdout.splitlines()


def test_names_txt_run_prints_microgpts_published_output(names_txt_run):
    _, lines = names_txt_run
    published = published_output()
    assert len(published["steps"]) == 4 and len(published["samples"]) == 11  # what it shows
    assert published["temperature"] == 0.5 and published["count"] == 20
    # The last four losses: microgpt.py pads the step number, TinyGPT's lines do not.
    printed = {int(m[1]): m[3] for m in map(STEP_LINE.match, lines) if m}
    assert sorted(printed) == list(range(1, 1001))
    for line in published["steps"]:
        step, loss = re.match(r"step +(\d+) / 1000 \| loss (\d\.\d{4})$", line).groups()
        assert printed[int(step)] == loss, line
    # Then microgpt.py's header and its sample lines, exactly, and "saved" last.
    at = lines.index(published["header"])
    assert lines[at - 1] == "step 1000 / 1000 | loss " + printed[1000]
    samples = lines[at + 1 : -1]
    assert lines[-1] == "saved model.json"
    assert [int(SAMPLE_LINE.match(line)[1]) for line in samples] == list(range(1, 21))
    for line in published["samples"]:
        assert line in samples, line


def test_names_txt_samples_are_drawn_as_microgpt_draws_them(names_txt_run):
    """All 20 names (the published text shows 11), against the independent transcription of
    microgpt.py: its own generator (seeded, shuffled, weights drawn: where training leaves
    it) and its Value forward, on the weights the run saved."""
    folder, lines = names_txt_run
    model = checkpoint.loads((folder / "model.json").read_text(encoding="utf-8"))
    ref = MicroGPT(MAKEMORE.read_text(encoding="utf-8"))
    ref.load_floats(model.params)
    printed = [SAMPLE_LINE.match(line)[2] for line in lines if SAMPLE_LINE.match(line)]
    assert printed == ref.sample(20, 0.5)


def test_samples_sets_how_many_names_train_prints(folder):
    def train(*extra):
        result = tinygpt(["train", "--data", "names.txt", "--steps", "5", *SMALL_ARGS, *extra],
                         folder)
        assert result.returncode == 0 and result.stderr == "", result.stderr
        lines = result.stdout.splitlines()
        assert len([line for line in lines if STEP_LINE.match(line)]) == 5
        return [m[2] for m in map(SAMPLE_LINE.match, lines) if m], lines

    default, lines = train()
    assert len(default) == 20 and lines[5] == "--- inference (new, hallucinated names) ---"
    three, _ = train("--samples", "3")
    assert three == default[:3]  # the same generator, drawn from the same point
    none, lines = train("--samples", "0")
    assert none == [] and len(lines) == 5  # the steps, and nothing after them
    # The run's own generator goes on from the shuffle and the weights: not a fresh seed.
    t = Trainer(TEXT, steps=5, **SMALL)
    while not t.done:
        t.step()
    assert default == t.sample(20, 0.5, rng=t.rng)
    assert default != t.sample(20, 0.5, seed=t.settings["seed"])


@pytest.mark.parametrize("value", ["-1", "101", "99999999999999999999"])
def test_bad_samples_count(folder, value):
    refused_train(folder, extra=["--samples", value], fragments=["--samples"])


@pytest.mark.parametrize("value", ["abc", "2.5", "1e3", ""])
def test_samples_that_is_not_a_whole_number(folder, value):
    before = listing(folder)
    result = tinygpt(["train", "--data", "names.txt", "--samples", value], folder)
    assert_refused(result, folder, before, "--samples", "--help")


@pytest.mark.parametrize(
    "args, code",
    [(["train", "--data", "nope.txt", "--out", "m.json"], 1),
     (["sample", "--model", "names.txt"], 1),
     (["train", "--data", "names.txt", "--steps", "abc"], 2)],
    ids=["missing-data", "not-a-model", "bad-argument"],
)
def test_the_entry_point_refuses_as_main_does(folder, args, code):
    """`python -m tinygpt` in a subprocess gives what main() gives in-process above."""
    before = listing(folder)
    result = tinygpt(args, folder)
    assert_refused(result, folder, before)
    assert result.returncode == code
    here = tinygpt_here(args, folder)
    assert (here.returncode, here.stdout, here.stderr) == (code, result.stdout, result.stderr)
