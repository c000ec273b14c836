"""Export to PyTorch, without torch: the project's files, the CLI, the page's zip, bad input.

The numbers (the exported model computes TinyGPT's losses, trains like it, and comes
back) are in test_export_torch.py.
"""

import base64
import io
import json
import os
import sys
import zipfile

import pytest
from helpers import SMALL, TEXT, TRAINED, assert_refused, tinygpt, tinygpt_here, trained_session

from tinygpt import checkpoint, export
from tinygpt.session import Session, api
from tinygpt.trainer import Trainer

PROJECT = {"README.md", "model.py", "train.py", "sample.py", "requirements.txt", "model.json"}


def unzip(data_b64):
    """{name inside the zip's folder: bytes} of the page's answer, and the folder name."""
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(data_b64)))
    infos = archive.infolist()
    folders = {info.filename.split("/")[0] for info in infos}
    assert len(folders) == 1
    assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in infos)
    return {info.filename.split("/", 1)[1]: archive.read(info) for info in infos}, folders.pop()


@pytest.fixture
def model_file(tmp_path):
    trainer = Trainer(TEXT, **SMALL, steps=5, seed=1)
    for _ in range(5):
        trainer.step()
    path = tmp_path / "m.json"
    path.write_text(json.dumps(trainer.model_file({"seed": 1, "source": "cli"})), "utf-8")
    (tmp_path / "names.txt").write_text(TEXT, "utf-8")
    return path


def test_cli_export_writes_the_project(model_file, tmp_path):
    result = tinygpt(["export", "--model", "m.json", "--data", "names.txt", "--out", "proj"],
                     tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = tmp_path / "proj"
    assert set(os.listdir(out)) == PROJECT | {"data.txt"}
    for name in export.SOURCE_FILES:  # the package's own files, byte for byte
        assert (out / name).read_bytes() == (export.SOURCE_DIR / name).read_bytes()
    assert (out / "data.txt").read_text("utf-8") == TEXT
    again = checkpoint.loads((out / "model.json").read_text("utf-8"))
    original = checkpoint.loads(model_file.read_text("utf-8"))
    assert again.params == original.params and again.meta == original.meta
    assert again.tokenizer.chars == original.tokenizer.chars
    # no temporary folder left beside it
    assert sorted(os.listdir(tmp_path)) == ["m.json", "names.txt", "proj"]


def test_cli_export_without_data_and_into_an_empty_folder(model_file, tmp_path):
    (tmp_path / "empty").mkdir()
    result = tinygpt(["export", "--model", "m.json", "--out", "empty"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert set(os.listdir(tmp_path / "empty")) == PROJECT


def test_exported_code_needs_only_torch():
    for name in ("model.py", "train.py", "sample.py"):
        source = (export.SOURCE_DIR / name).read_text("utf-8")
        imports = [line.split()[1] for line in source.splitlines()
                   if line.startswith(("import ", "from "))]
        assert "tinygpt" not in " ".join(imports), name
        stdlib = set(sys.stdlib_module_names)
        for module in imports:
            assert module.split(".")[0] in stdlib | {"torch", "model"}, (name, module)
    assert (export.SOURCE_DIR / "requirements.txt").read_text().split() == ["torch>=2.0"]


def test_page_zip_holds_what_the_cli_export_writes(tmp_path):
    session = trained_session()
    answer = api(session)["export_project"](meta={"source": "page"})
    assert answer["filename"] == "tinygpt-pytorch.zip"
    files, folder = unzip(answer["data"])
    assert folder == "tinygpt-pytorch"
    assert set(files) == PROJECT | {"data.txt"}
    assert files["data.txt"].decode("utf-8") == TEXT  # the run's text, as it was given
    meta = json.loads(files["model.json"])["meta"]
    assert meta["settings"] == {"steps": TRAINED["steps"], "batch": 1, "lr": 0.01,
                                "seed": TRAINED["seed"], "val_fraction": 0.0, "beta1": 0.85,
                                "beta2": 0.99, "eps": 1e-8}
    assert meta["steps"] == TRAINED["steps"] and meta["source"] == "page"
    # the same model file and data through the CLI give the very same files
    (tmp_path / "model.json").write_bytes(files["model.json"])
    (tmp_path / "data.txt").write_bytes(files["data.txt"])
    result = tinygpt(["export", "--model", "model.json", "--data", "data.txt", "--out", "cli"],
                     tmp_path)
    assert result.returncode == 0, result.stderr
    written = {path.name: path.read_bytes() for path in (tmp_path / "cli").iterdir()}
    assert written == files
    # deterministic: the same model gives the same zip
    assert session.export_project(meta={"source": "page"})["data"] == answer["data"]


def test_page_export_of_a_loaded_model_has_no_data(model_file):
    session = Session()
    session.load_model(model_file.read_text("utf-8"))
    files, _ = unzip(session.export_project()["data"])
    assert set(files) == PROJECT
    assert json.loads(files["model.json"])["meta"] == {"seed": 1, "source": "cli", "steps": 5,
                                                        "batch": 1,
                                                        "loss": session.model.meta["loss"]}


def test_page_export_without_a_model_is_a_user_error():
    from tinygpt.web import call

    answer = json.loads(call("export_project", "{}"))
    assert answer["kind"] == "user" and "no model" in answer["error"]


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--model", "names.txt"], ["not valid JSON"]),
        (["--model", "notes.json"], ["not a TinyGPT model file"]),
        (["--model", "nope.json"], ["nope.json", "does not exist"]),
        (["--model", "m.json", "--data", "nope.txt"], ["nope.txt", "does not exist"]),
        (["--model", "m.json", "--data", "other.txt"], ["does not know"]),
        (["--model", "m.json", "--data", "empty.txt"], ["empty"]),
        (["--model", "m.json", "--out", "full"], ["full", "not empty"]),
        (["--model", "m.json", "--out", "names.txt"], ["is a file"]),
        (["--model", "m.json", "--out", "no/such/dir"], ["does not exist"]),
        (["--model", "m.json"], ["--out"]),
    ],
)
def test_cli_export_refuses_bad_input(model_file, tmp_path, args, fragments):
    (tmp_path / "notes.json").write_text('{"format": "notes"}', "utf-8")
    (tmp_path / "other.txt").write_text("zoë\nxavier\n", "utf-8")
    (tmp_path / "empty.txt").write_text("\n \n", "utf-8")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine", "utf-8")
    before = sorted(os.listdir(tmp_path))
    if "--out" not in args and args != ["--model", "m.json"]:
        args = [*args, "--out", "proj"]
    result = tinygpt_here(["export", *args], tmp_path)
    assert_refused(result, tmp_path, before, *fragments)
    assert (tmp_path / "full" / "keep.txt").read_text("utf-8") == "mine"


def test_write_project_leaves_nothing_when_it_fails(tmp_path, monkeypatch):
    files = {"a.txt": b"a", "b.txt": b"b"}

    def fail(tmp, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export.os, "replace", fail)
    with pytest.raises(OSError):
        export.write_project(files, tmp_path / "proj")
    assert os.listdir(tmp_path) == []
