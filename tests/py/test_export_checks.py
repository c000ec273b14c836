"""The PyTorch export checks what it hands on, and its scripts check before they allocate.
A shared model's meta can say anything: its settings became
train.py's defaults unchecked (batch 1e9, beta1 7.5, eps -1), and model.py built the
model (n_embd 4096: 800 MB) before it checked the file's shapes."""

import base64
import importlib
import io
import json
import struct
import sys
import zipfile

import pytest
from helpers import FEW
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygpt import export
from tinygpt import settings as table
from tinygpt.model import Config, param_shapes
from tinygpt.session import Session

CHARS = sorted(set(FEW) - {"\n"})
CONFIG = {"n_embd": 8, "n_head": 2, "n_layer": 1, "block_size": 8}
HOSTILE = {"batch": 10**9, "beta1": 7.5, "eps": -1, "lr": 0.02, "n_embd": 4096, "steps": 300}


def link(meta):
    header = json.dumps({"config": CONFIG, "chars": CHARS, "meta": meta}).encode()
    count = sum(r * c for _, r, c in param_shapes(Config(**CONFIG), len(CHARS) + 1))
    data = struct.pack("<4sBBI", b"TGPT", 1, 64, len(header)) + header + struct.pack(
        f"<{count}d", *[0.01 * (i % 13 - 6) for i in range(count)])
    return base64.b64encode(data).decode()


def exported(meta):
    """(the exported project's files, the export's answer) for a shared model with `meta`."""
    session = Session()
    session.load_shared_model(link(meta))
    answer = session.export_project()
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(answer["data"])))
    files = {info.filename.split("/", 1)[1]: archive.read(info) for info in archive.infolist()}
    return files, answer


def test_a_shared_models_settings_are_checked_against_the_table_and_named():
    files, answer = exported({"settings": HOSTILE, "seed": -3, "batch": 2.5})
    meta = json.loads(files["model.json"])["meta"]
    assert meta["settings"] == {"lr": 0.02, "steps": 300}  # what is in range stays
    assert "seed" not in meta and "batch" not in meta
    left_out = " ".join(answer["left_out"])
    for name in ("meta.settings.batch", "meta.settings.beta1", "meta.settings.eps",
                 "meta.settings.n_embd", "meta.seed", "meta.batch"):
        assert name in left_out, left_out
    assert all("\n" not in why for why in answer["left_out"])


def test_a_runs_own_settings_all_go_through():
    session = Session()
    session.new_run(FEW, {**CONFIG, "steps": 20, "batch": 2, "beta2": 0.999})
    answer = session.export_project()
    assert answer["left_out"] == []


@pytest.fixture
def project(tmp_path):
    """An exported project of a model with hostile meta, its scripts imported from it."""
    files, _ = exported({"settings": HOSTILE})
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "data.txt").write_text(FEW)
    sys.path.insert(0, str(tmp_path))
    try:
        yield tmp_path, {n: importlib.import_module(n) for n in ("model", "train", "sample")}
    finally:
        sys.path.remove(str(tmp_path))
        for name in ("model", "train", "sample"):
            sys.modules.pop(name, None)


def small_file(path, **config):
    """159 bytes that claim a model of n_embd 4096: no weights at all."""
    cfg = {"n_embd": 4096, "n_head": 4, "n_layer": 4, "block_size": 16, **config}
    path.write_text(json.dumps({"format": "tinygpt-model", "version": 1, "config": cfg,
                                "chars": ["a"], "state_dict": {}}))
    return path


def test_model_py_checks_the_shapes_before_it_allocates(project, monkeypatch):
    folder, scripts = project
    built = []
    monkeypatch.setattr(scripts["model"], "GPT", lambda *a, **k: built.append(a) or 1 / 0)
    path = small_file(folder / "claim.json")
    assert len(path.read_bytes()) < 200
    with pytest.raises(ValueError, match="do not match the config"):
        scripts["model"].load_model_file(path)
    assert built == []


def test_train_py_takes_no_shape_from_a_file_it_has_not_checked(project, monkeypatch, capsys):
    folder, scripts = project
    small_file(folder / "model.json")  # beside train.py: a fresh run would take its shape
    built = []
    monkeypatch.setattr(scripts["train"], "GPT", lambda *a, **k: built.append(a) or 1 / 0)
    assert scripts["train"].main(["--data", str(folder / "data.txt"), "--steps", "1"]) != 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "do not match the config" in err[0] and built == []


def test_train_py_leaves_out_recorded_settings_out_of_range(project, capsys):
    folder, scripts = project
    model = json.loads((folder / "model.json").read_text())
    model["meta"]["settings"] = {"batch": 10**9, "beta1": 7.5, "eps": -1, "lr": 0.02}
    model["meta"]["seed"] = "x"
    (folder / "model.json").write_text(json.dumps(model))
    found = scripts["train"].recorded_settings(folder / "model.json")
    defaults = scripts["train"].TINYGPT_DEFAULTS
    assert found["batch"] == defaults["batch"] and found["beta1"] == defaults["beta1"]
    assert found["eps"] == defaults["eps"] and found["seed"] == defaults["seed"]
    assert found["lr"] == 0.02
    out = capsys.readouterr().out
    for name in ("settings.batch", "settings.beta1", "settings.eps", "meta.seed"):
        assert name in out


@pytest.mark.parametrize("script, args, fragment", [
    ("train", ["--seed", "-1"], "--seed"),
    ("train", ["--lr", "nan"], "--lr"),
    ("train", ["--lr", "inf"], "--lr"),
    ("train", ["--batch", str(2**21)], "--batch"),
    ("train", ["--val-fraction", "nan"], "--val-fraction"),
    ("sample", ["--temperature", "nan"], "--temperature"),
    ("sample", ["--temperature", "inf"], "--temperature"),
    ("sample", ["--seed", "-5"], "--seed"),
])
def test_the_scripts_arguments_are_checked(project, monkeypatch, capsys, script, args, fragment):
    folder, scripts = project
    monkeypatch.chdir(folder)
    extra = ["--data", "data.txt", "--steps", "1"] if script == "train" else []
    assert scripts[script].main([*extra, *args]) != 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and fragment in err[0], err


# --- fuzzed: what the export keeps, train.py takes ----------------------------------------------
values = st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.floats() | st.text(
    max_size=5)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(given_settings=st.dictionaries(st.sampled_from(list(table.BY_NAME) + ["x", "\n"]),
                                      values, max_size=8),
       top=st.dictionaries(st.sampled_from(["seed", "steps", "batch", "loss"]), values,
                           max_size=4))
def test_what_the_export_keeps_is_in_range_for_train_py(given_settings, top):
    pytest.importorskip("torch")
    sys.path.insert(0, str(export.SOURCE_DIR))
    try:
        train = importlib.import_module("train")
    finally:
        sys.path.remove(str(export.SOURCE_DIR))
        for name in ("model", "train", "sample"):  # other tests import exported copies
            sys.modules.pop(name, None)
    meta, left_out = export.train_settings({**top, "settings": given_settings})
    assert all("\n" not in why for why in left_out)
    top_kept = {k: meta[k] for k in export.META_RUN_KEYS if k in meta}
    for key, value in [*top_kept.items(), *meta["settings"].items()]:
        if key == "steps" and value == 0 and key in top_kept:
            continue  # steps done: 0 before the first step
        assert table.check(key, value) == value
        assert train.out_of_range(key, value) is None, (key, value)
    # each given one is kept or named
    assert len(top_kept) + len(meta["settings"]) + len(left_out) == len(given_settings) + sum(
        k in top for k in export.META_RUN_KEYS)
