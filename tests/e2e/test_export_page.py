"""Export to PyTorch in the browser: the page's Python has the project's files mounted
(pyscript.toml, and app/python-package.js for the lessons' worker) and hands out the zip
that `python -m tinygpt export` would write for the same model and data."""

import base64
import io
import json
import os
import subprocess
import sys
import zipfile

from browsing import ROOT
from pageutil import generate_names, open_lessons, open_playground, py_call, state, wait_steps

from tinygpt import checkpoint, export


def test_the_page_exports_its_run_as_the_cli_would(page, site):
    # Enough steps that the run is still training at the Pause click (40 of this size
    # were sometimes done before it, and a done run's button is disabled).
    open_playground(page, site, "?steps=3000&n_embd=8&n_head=2")
    page.click("[data-testid=train-toggle]")
    wait_steps(page, 5)
    page.click("[data-testid=train-toggle]")  # pause
    assert state(page) == "paused"
    answer = py_call(page, "export_project", meta={"source": "page"})
    assert answer["filename"] == "tinygpt-pytorch.zip"
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(answer["data"])))
    files = {i.filename.removeprefix("tinygpt-pytorch/"): archive.read(i)
             for i in archive.infolist()}
    assert set(files) == {*export.SOURCE_FILES, "model.json", "data.txt"}
    meta = json.loads(files["model.json"])["meta"]
    assert meta["settings"]["steps"] == 3000 and meta["steps"] >= 5
    # CPython, from the same model file and data, writes the very same bytes
    model = checkpoint.loads(files["model.json"].decode("utf-8"))
    assert export.project_files(model, files["data.txt"].decode("utf-8")) == files


def test_the_lessons_worker_mounts_the_project(page, site):
    open_lessons(page, site, "build")
    box = page.locator("[data-view=build] [data-testid=code-cell]").first
    box.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(
        "from tinygpt import export\nprint(sorted(p.name for p in export.SOURCE_DIR.iterdir()))"
    )
    box.locator("[data-testid=run]").click()
    page.wait_for_function(
        "el => ['done', 'error', 'stopped'].includes(el.dataset.state)",
        arg=box.element_handle(), timeout=60_000,
    )
    output = box.locator("[data-testid=cell-output]").text_content()
    assert str(sorted(export.SOURCE_FILES)) in output, output


def test_the_export_button_downloads_the_project_the_cli_writes(page, site, tmp_path):
    open_playground(page, site, "?steps=30&n_embd=8&n_head=2")
    page.click("[data-testid=train-toggle]")
    page.wait_for_selector("[data-testid=status][data-state=done]", timeout=60_000)
    with page.expect_download() as download:
        page.click("[data-testid=export-pytorch]")
    assert download.value.suggested_filename == "tinygpt-pytorch.zip"
    archive = zipfile.ZipFile(download.value.path())
    files = {i.filename.removeprefix("tinygpt-pytorch/"): archive.read(i)
             for i in archive.infolist()}
    # `python -m tinygpt export` with the same model file and data writes the same files.
    (tmp_path / "model.json").write_bytes(files["model.json"])
    (tmp_path / "data.txt").write_bytes(files["data.txt"])
    subprocess.run([sys.executable, "-m", "tinygpt", "export", "--model", "model.json",
                    "--data", "data.txt", "--out", "cli"], cwd=tmp_path, check=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT / "py")}, capture_output=True)
    cli = {p.name: p.read_bytes() for p in (tmp_path / "cli").iterdir()}
    assert cli == files


def test_a_model_trained_in_pytorch_opens_and_generates_in_the_page(page, site, tmp_path):
    # The way back: train.py (PyTorch, float64) writes a model file; the page opens it and
    # generates what `python -m tinygpt sample` generates from it.
    files = export.project_files(checkpoint.loads(json.dumps(_small_model())), _NAMES)
    export.write_project(files, tmp_path / "project")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "train.py", "--data", "data.txt", "--init", "model.json",
                    "--steps", "20", "--dtype", "float64", "--device", "cpu", "--out",
                    "trained.json"], cwd=tmp_path / "project", check=True, env=env,
                   capture_output=True, timeout=300)
    trained = tmp_path / "project" / "trained.json"
    cli = subprocess.run(
        [sys.executable, "-m", "tinygpt", "sample", "--model", str(trained), "--n", "8",
         "--seed", "3", "--temperature", "0.7"],
        check=True, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "py")}).stdout.splitlines()
    open_playground(page, site)
    page.set_input_files("[data-testid=open-model-file]", str(trained))
    page.wait_for_selector("[data-testid=status][data-state=done]", timeout=30_000)
    assert py_call(page, "info")["trainable"] is False
    page.fill("#gen-n", "8")
    page.fill("#gen-seed", "3")
    page.fill("#temperature", "0.7")
    shown = [name if name != "(empty)" else "" for name in generate_names(page)]
    assert shown == cli


_NAMES = "emma\nolivia\nava\nisabella\nsophia\nmia\namelia\nharper\n"


def _small_model():
    from tinygpt.trainer import Trainer

    trainer = Trainer(_NAMES, n_embd=8, n_head=2, block_size=8, steps=5)
    while not trainer.done:
        trainer.step()
    return trainer.model_file({"dataset": "test names"})
