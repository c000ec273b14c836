"""Model files: the trained weights as JSON, readable by the CLI and the page alike.

A file from somewhere else is data from a stranger: every field is checked (types,
shapes, sizes, finite numbers) before anything uses it.
"""

import json
import math

from . import jsonio
from .data import MAX_VOCAB, Tokenizer, describe_character, hidden_character
from .errors import TinyGPTError
from .generate import Model
from .model import Config, param_shapes
from .settings import short

FORMAT, VERSION = "tinygpt-model", 1
MAX_FILE_CHARS = 200_000_000  # the largest model the settings allow, written as JSON
MAX_META_CHARS = 10_000
# The largest model the page opens or trains: one letter of generation then costs under
# about 30 ms in Pyodide, loading its file a few tens of ms, so no task of the page is
# long. (Measured: scripts/measure_page_limits.py.) The CLI takes any size the settings
# allow.
PAGE_MAX_PARAMS = 150_000
# A model file within that size, as JSON (about 25 characters per weight, with room).
PAGE_MAX_FILE_BYTES = PAGE_MAX_PARAMS * 64
_NUMBER_TYPES = {int, float}


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


def check_params(state_dict, config, vocab_size, floats_checked=False):
    """Parameters as fresh lists of floats, after checking names, shapes and values
    (`floats_checked`: the caller built the matrices itself, from param_shapes, as fresh
    lists of finite floats, so only the names are checked here)."""
    if not isinstance(state_dict, dict):
        raise TinyGPTError("The model's weights are missing.")
    shapes = param_shapes(config, vocab_size)
    expected = {name for name, _, _ in shapes}
    if set(state_dict) != expected:
        missing, extra = expected - set(state_dict), set(state_dict) - expected
        first = sorted(missing or extra)[0]
        what = f"missing {first}" if missing else f"unexpected {short(first)}"
        raise TinyGPTError(f"The model's weights do not match its config ({what}).")
    params = {}
    for name, rows, cols in shapes:
        mat = state_dict[name]
        if floats_checked:
            params[name] = mat
            continue
        if (
            not isinstance(mat, list)
            or len(mat) != rows
            or any(not isinstance(row, list) or len(row) != cols for row in mat)
        ):
            raise TinyGPTError(
                f"The weights {name} have the wrong shape: expected {rows} x {cols}."
            )
        params[name] = [_finite_row(row, name) for row in mat]
    return params


def _finite_row(row, name):
    """A row as floats, refused unless every value is an int or float (not a bool) that
    is finite as a float. Whole-row C loops (map, set): a per-number Python check costs
    about a microsecond each in Pyodide, which made big files freeze the page."""
    try:
        floats = list(map(float, row)) if set(map(type, row)) <= _NUMBER_TYPES else None
    except OverflowError:  # an int beyond the float range
        floats = None
    if floats is None or not all(map(math.isfinite, floats)):
        raise TinyGPTError(f"The weights {name} contain a value that is not a finite number.")
    return floats


def check_page_size(config, vocab_size, what="This model"):
    """Refuse a model bigger than the page can run without freezing (PAGE_MAX_PARAMS)."""
    params = sum(rows * cols for _, rows, cols in param_shapes(config, vocab_size))
    if params > PAGE_MAX_PARAMS:
        raise TinyGPTError(
            f"{what} has {params:,} parameters; this page runs models of up to "
            f"{PAGE_MAX_PARAMS:,} (bigger ones would freeze it). Use it with "
            "`python -m tinygpt sample`, or export it to PyTorch."
        )
    return params


def check_vocabulary(chars, what):
    """The characters of a vocabulary, checked: 1 to MAX_VOCAB distinct single characters,
    sorted, none of them hidden or control characters (data.hidden_character)."""
    if (
        not isinstance(chars, list)
        or not chars
        or len(chars) > MAX_VOCAB
        or any(not isinstance(c, str) or len(c) != 1 for c in chars)
        or len(set(chars)) != len(chars)
        or chars != sorted(chars)
    ):
        raise TinyGPTError(
            f"{what} must be 1 to {MAX_VOCAB} distinct single characters, sorted."
        )
    hidden = hidden_character("".join(chars))
    if hidden is not None:
        raise TinyGPTError(
            f"{what} holds the invisible or control character {describe_character(hidden)}, "
            "which no training text can contain."
        )
    return chars


def load_model_file(data, for_page=False, floats_checked=False):
    """A validated Model from a parsed model file (a dict). For the page, a model bigger
    than the page can run is refused before its weights are read. (`floats_checked`: see
    check_params.)"""
    if not isinstance(data, dict):
        raise TinyGPTError("This is not a TinyGPT model file.")
    if data.get("format") != FORMAT:
        raise TinyGPTError("This is not a TinyGPT model file (its format is not tinygpt-model).")
    if data.get("version") != VERSION:
        raise TinyGPTError(
            f"This model file has version {short(data.get('version'))}; "
            f"this TinyGPT reads version {VERSION}."
        )
    cfg = data.get("config")
    if not isinstance(cfg, dict) or set(cfg) != {"n_embd", "n_head", "n_layer", "block_size"}:
        raise TinyGPTError(
            "The model file's config must give n_embd, n_head, n_layer and block_size."
        )
    config = Config(**cfg)
    tokenizer = Tokenizer(check_vocabulary(data.get("chars"), "The model file's vocabulary"))
    if for_page:
        check_page_size(config, tokenizer.vocab_size)
    params = check_params(data.get("state_dict"), config, tokenizer.vocab_size, floats_checked)
    return Model(config, tokenizer, params, check_meta(data.get("meta", {})))


def check_meta(meta, what="The model file's meta"):
    """A model's meta: a small JSON object (no NaN or infinities, which Python's json reads
    but JSON answers cannot carry), whose text holds no hidden or control characters."""
    try:
        text = json.dumps(meta, allow_nan=False)
        ok = isinstance(meta, dict) and len(text) <= MAX_META_CHARS
    except (ValueError, RecursionError):
        ok = False
    if not ok:
        raise TinyGPTError(f"{what} must be a small JSON object.")
    hidden = hidden_character("".join(_strings(meta)))
    if hidden is not None:
        raise TinyGPTError(
            f"{what} holds the invisible or control character {describe_character(hidden)}."
        )
    return meta


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def loads(text, for_page=False):
    """Parse and validate the text of a model file."""
    return load_model_file(jsonio.loads(text, "The model file", MAX_FILE_CHARS), for_page)


def dumps(model, meta=None):
    return json.dumps(model_file(model, meta))
