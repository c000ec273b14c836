"""Export to PyTorch in the browser: the page's Python has the project's files mounted
(pyscript.toml, and app/python-package.js for the lessons' worker) and hands out the zip
that `python -m tinygpt export` would write for the same model and data."""

import base64
import io
import json
import zipfile

from pageutil import open_playground, py_call, wait_steps

from tinygpt import checkpoint, export


def test_the_page_exports_its_run_as_the_cli_would(page, site):
    open_playground(page, site, "?steps=40&n_embd=8&n_head=2")
    page.click("[data-testid=train-toggle]")
    wait_steps(page, 5)
    page.click("[data-testid=train-toggle]")  # pause
    answer = py_call(page, "export_project", meta={"source": "page"})
    assert answer["filename"] == "tinygpt-pytorch.zip"
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(answer["data"])))
    files = {i.filename.removeprefix("tinygpt-pytorch/"): archive.read(i)
             for i in archive.infolist()}
    assert set(files) == {*export.SOURCE_FILES, "model.json", "data.txt"}
    meta = json.loads(files["model.json"])["meta"]
    assert meta["settings"]["steps"] == 40 and meta["steps"] >= 5
    # CPython, from the same model file and data, writes the very same bytes
    model = checkpoint.loads(files["model.json"].decode("utf-8"))
    assert export.project_files(model, files["data.txt"].decode("utf-8")) == files


def test_the_lessons_worker_mounts_the_project(page, site):
    page.goto(f"{site}lessons.html#build")
    page.wait_for_selector("[data-testid=python-status][data-state=ready]", timeout=60_000)
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
