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
from .data import parse_documents
from .errors import TinyGPTError

SOURCE_DIR = Path(__file__).resolve().parent / "pytorch"
SOURCE_FILES = ("README.md", "model.py", "requirements.txt", "sample.py", "train.py")
ZIP_FOLDER = "tinygpt-pytorch"  # the zip holds one folder of this name
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same model gives the same zip
# A training run's settings that train.py takes as its defaults (from model.json's meta).
RUN_SETTINGS = ("steps", "batch", "lr", "seed", "val_fraction", "beta1", "beta2", "eps")


def project_files(model, text=None):
    """{filename: bytes} of the project for a Model (its meta included) and its text."""
    files = {name: (SOURCE_DIR / name).read_bytes() for name in SOURCE_FILES}
    files["model.json"] = checkpoint.dumps(model, model.meta).encode("utf-8")
    if text is not None:
        docs = parse_documents(text)
        unknown = sorted(set("".join(docs)) - set(model.tokenizer.chars))
        if unknown:
            raise TinyGPTError(
                f"The data uses characters the model does not know ({''.join(unknown[:10])}): "
                "export a model with the data it was trained on."
            )
        files["data.txt"] = text.encode("utf-8")
    return dict(sorted(files.items()))


def project_zip(files, folder=ZIP_FOLDER):
    """The files as a zip (bytes) holding one folder; timestamps fixed, so deterministic."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16  # rw-r--r--
            archive.writestr(info, files[name])
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
    """The page's "Export to PyTorch": {"filename": "....zip", "data": base64 of the zip}.

    `model_file` is the model-file dict of the current model; a training run (`trainer`)
    exports its text as data.txt and its settings in model.json's meta (train.py's
    defaults), so `python train.py` there repeats the run in PyTorch.
    """
    text = None
    if trainer is not None:
        meta = {**model_file.get("meta", {}),
                "settings": {k: trainer.settings[k] for k in RUN_SETTINGS}}
        model_file, text = {**model_file, "meta": meta}, trainer.text
    files = project_files(checkpoint.load_model_file(model_file), text)
    data = base64.b64encode(project_zip(files)).decode("ascii")
    return {"filename": f"{ZIP_FOLDER}.zip", "data": data}
