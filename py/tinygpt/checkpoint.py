"""Model files: the trained weights as JSON, readable by the CLI and the page alike.

A file from somewhere else is data from a stranger: every field is checked (types,
shapes, sizes, finite numbers) before anything uses it.
"""

import json

from .data import MAX_VOCAB, Tokenizer
from .errors import TinyGPTError, is_finite_number
from .generate import Model
from .model import Config, param_shapes

FORMAT, VERSION = "tinygpt-model", 1
MAX_FILE_CHARS = 50_000_000
MAX_META_CHARS = 10_000


def model_file(model, meta=None):
    """The DESIGN.md model-file dict of a Model (or Trainer)."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "config": model.config.as_dict(),
        "chars": list(model.tokenizer.chars),
        "state_dict": model.params,
        "meta": dict(meta or {}),
    }


def check_params(state_dict, config, vocab_size):
    """Parameters as fresh lists of floats, after checking names, shapes and values."""
    if not isinstance(state_dict, dict):
        raise TinyGPTError("The model's weights are missing.")
    shapes = param_shapes(config, vocab_size)
    expected = {name for name, _, _ in shapes}
    if set(state_dict) != expected:
        missing, extra = expected - set(state_dict), set(state_dict) - expected
        what = f"missing {sorted(missing)[0]}" if missing else f"unexpected {sorted(extra)[0]!r}"
        raise TinyGPTError(f"The model's weights do not match its config ({what}).")
    params = {}
    for name, rows, cols in shapes:
        mat = state_dict[name]
        if (
            not isinstance(mat, list)
            or len(mat) != rows
            or any(not isinstance(row, list) or len(row) != cols for row in mat)
        ):
            raise TinyGPTError(
                f"The weights {name} have the wrong shape: expected {rows} x {cols}."
            )
        out = []
        for row in mat:
            for x in row:
                if not is_finite_number(x):
                    raise TinyGPTError(
                        f"The weights {name} contain a value that is not a finite number."
                    )
            out.append([float(x) for x in row])
        params[name] = out
    return params


def load_model_file(data):
    """A validated Model from a parsed model file (a dict)."""
    if not isinstance(data, dict):
        raise TinyGPTError("This is not a TinyGPT model file.")
    if data.get("format") != FORMAT:
        raise TinyGPTError("This is not a TinyGPT model file (its format is not tinygpt-model).")
    if data.get("version") != VERSION:
        raise TinyGPTError(
            f"This model file has version {data.get('version')!r}; "
            f"this TinyGPT reads version {VERSION}."
        )
    cfg = data.get("config")
    if not isinstance(cfg, dict) or set(cfg) != {"n_embd", "n_head", "n_layer", "block_size"}:
        raise TinyGPTError(
            "The model file's config must give n_embd, n_head, n_layer and block_size."
        )
    config = Config(**cfg)
    chars = data.get("chars")
    if (
        not isinstance(chars, list)
        or not chars
        or len(chars) > MAX_VOCAB
        or any(not isinstance(c, str) or len(c) != 1 for c in chars)
        or len(set(chars)) != len(chars)
        or chars != sorted(chars)
    ):
        raise TinyGPTError(
            f"The model file's vocabulary must be 1 to {MAX_VOCAB} distinct single "
            "characters, sorted."
        )
    tokenizer = Tokenizer(chars)
    params = check_params(data.get("state_dict"), config, tokenizer.vocab_size)
    meta = data.get("meta", {})
    try:  # NaN or Infinity (which Python's json reads) would break JSON answers later
        meta_ok = isinstance(meta, dict) and len(json.dumps(meta, allow_nan=False)) <= (
            MAX_META_CHARS
        )
    except ValueError:
        meta_ok = False
    if not meta_ok:
        raise TinyGPTError("The model file's meta must be a small JSON object.")
    return Model(config, tokenizer, params, meta)


def loads(text):
    """Parse and validate the text of a model file."""
    if not isinstance(text, str):
        raise TinyGPTError("A model file must be text (JSON).")
    if len(text) > MAX_FILE_CHARS:
        raise TinyGPTError("The model file is too large.")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise TinyGPTError(
            "The model file is not valid JSON (it may be truncated or damaged)."
        ) from None
    return load_model_file(data)


def dumps(model, meta=None):
    return json.dumps(model_file(model, meta))
