"""Export to PyTorch: a model (and its training text) as a small standalone project.

The project is the folder pytorch/ beside this module - model.py (this GPT in PyTorch),
train.py, sample.py, README.md, requirements.txt - plus model.json (the TinyGPT model
file itself) and data.txt (the training text, when there is one). Nothing in it imports
tinygpt; it runs wherever torch does, and its trained model files come back here.

`python -m tinygpt export` writes it to a folder; the page's "Export to PyTorch" button
gets the very same files as a zip (`page_export`).
"""

import base64
import io
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from . import checkpoint
from . import settings as table
from .data import parse_documents
from .errors import TinyGPTError
from .scheduler import finish
from .settings import short

SOURCE_DIR = Path(__file__).resolve().parent / "pytorch"
SOURCE_FILES = ("README.md", "model.py", "requirements.txt", "sample.py", "train.py")
ZIP_FOLDER = "tinygpt-pytorch"  # the zip holds one folder of this name
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same model gives the same zip
# A training run's settings that train.py takes as its defaults (from model.json's meta).
RUN_SETTINGS = ("steps", "batch", "lr", "seed", "val_fraction", "beta1", "beta2", "eps")
# What train.py also reads from the meta itself (steps done, the run's seed and batch).
META_RUN_KEYS = ("seed", "steps", "batch")
ZIP_CHUNK = 128 * 1024  # bytes compressed per piece: about 10 ms in Pyodide


def train_settings(meta):
    """(the meta model.json gets, [what was left out of it, and why]).

    train.py takes its defaults from model.json's meta: `settings` (RUN_SETTINGS) and
    META_RUN_KEYS. A model from a link or a file brings any meta, so each of those is
    checked against the settings table, and one out of its range (batch 1e9, beta1 7.5,
    eps -1), of the wrong type, or not a run setting (n_embd: the model's config gives
    the shape) is left out and named: train.py then uses its own default instead."""
    meta, left_out = dict(meta), []
    for key in META_RUN_KEYS:
        if key == "steps" and meta.get(key) == 0 and type(meta[key]) is int:
            continue  # a model before its first step (train.py then takes settings.steps)
        if key in meta:
            try:
                meta[key] = table.check(key, meta[key])
            except TinyGPTError as e:
                del meta[key]
                left_out.append(f"meta.{key}: {e}")
    if "settings" in meta:
        given, kept = meta["settings"], {}
        if not isinstance(given, dict):
            left_out.append("meta.settings: not a set of named settings.")
            given = {}
        for key, value in given.items():
            if key not in RUN_SETTINGS:
                named = key if key.isidentifier() and len(key) <= 40 else short(key)
                left_out.append(f"meta.settings.{named}: not a setting train.py takes from a run.")
                continue
            try:
                kept[key] = table.check(key, value)
            except TinyGPTError as e:
                left_out.append(f"meta.settings.{key}: {e}")
        meta["settings"] = kept
    return meta, left_out


def project_files(model, text=None):
    """{filename: bytes} of the project for a Model (its meta, train_settings' part of
    it, included) and its text."""
    return finish(project_files_steps(model, text))


def project_files_steps(model, text=None):
    """project_files in pieces: model.json a matrix at a time (see checkpoint.dumps_steps)."""
    files = {name: (SOURCE_DIR / name).read_bytes() for name in SOURCE_FILES}
    if text is not None:
        docs = parse_documents(text)
        unknown = sorted(set("".join(docs)) - set(model.tokenizer.chars))
        if unknown:
            raise TinyGPTError(
                f"The data uses characters the model does not know ({''.join(unknown[:10])}): "
                "export a model with the data it was trained on."
            )
        files["data.txt"] = text.encode("utf-8")
    meta = train_settings(model.meta)[0]
    text_of_model = yield from checkpoint.dumps_steps(model, meta)
    files["model.json"] = text_of_model.encode("utf-8")
    return dict(sorted(files.items()))


def project_zip(files, folder=ZIP_FOLDER):
    """The files as a zip (bytes) holding one folder; timestamps fixed, so deterministic."""
    return finish(project_zip_steps(files, folder))


def project_zip_steps(files, folder=ZIP_FOLDER):
    """project_zip in pieces: each file compressed ZIP_CHUNK bytes at a time (deflate's
    output does not depend on how its input is cut, so the zip is the same)."""
    buffer = io.BytesIO()
    total, done = sum(map(len, files.values())), 0
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16  # rw-r--r--
            data = files[name]
            info.file_size = len(data)  # as writestr sets it before writing
            with archive.open(info, "w") as out:
                for at in range(0, len(data), ZIP_CHUNK):
                    out.write(data[at : at + ZIP_CHUNK])
                    done += min(ZIP_CHUNK, len(data) - at)
                    yield f"Zipping the project: {done / 1e6:.1f} of {total / 1e6:.1f} MB."
    return buffer.getvalue()


def write_project(files, out):
    """Write the files into the folder `out`, which must be new or empty: all or nothing.

    They go to a temporary folder beside it, renamed into place once complete, so an
    error half-way (or Ctrl-C) leaves no half-written project.
    """
    target = Path(os.path.abspath(out))
    if target.exists() and not target.is_dir():
        raise TinyGPTError(f"Cannot export to {out}: it is a file, not a folder.")
    if target.is_dir() and any(target.iterdir()):
        raise TinyGPTError(f"The folder {out} is not empty: export into a new or empty folder.")
    if not target.parent.is_dir():
        raise TinyGPTError(f"Cannot export to {out}: the folder {target.parent} does not exist.")
    try:
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    except OSError as e:
        raise TinyGPTError(f"Cannot write into {target.parent}: {e.strerror or e}.") from None
    try:
        for name, data in files.items():
            (tmp / name).write_bytes(data)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o777 & ~mask)  # mkdtemp makes it private; the project is not
        os.replace(tmp, target)  # also replaces an empty folder
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def page_export(model_file, trainer=None):
    """The page's "Export to PyTorch": {"filename": "....zip", "data": base64 of the zip,
    "left_out": what of the meta train.py does not take (train_settings)}.

    `model_file` is the model-file dict of the current model; a training run (`trainer`)
    exports its text as data.txt and its settings in model.json's meta (train.py's
    defaults), so `python train.py` there repeats the run in PyTorch.
    """
    return finish(page_export_steps(model_file, trainer))


def page_export_steps(model_file, trainer=None):
    """page_export in pieces (the page's export job): yields a line saying what it does
    after each piece and returns page_export's answer."""
    text = None
    if trainer is not None:
        meta = {**model_file.get("meta", {}),
                "settings": {k: trainer.settings[k] for k in RUN_SETTINGS}}
        model_file, text = {**model_file, "meta": meta}, trainer.text
    model = checkpoint.load_model_file(model_file)
    yield "Checking the model."
    files = yield from project_files_steps(model, text)
    archive = yield from project_zip_steps(files)
    data = base64.b64encode(archive).decode("ascii")
    return {"filename": f"{ZIP_FOLDER}.zip", "data": data,
            "left_out": train_settings(model.meta)[1]}
