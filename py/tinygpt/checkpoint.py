"""The file formats: model files (the trained weights as JSON, readable by the CLI and
the page alike) and saved runs (a training run, to continue it exactly).

A file from somewhere else is data from a stranger: every field is checked (types,
shapes, sizes, finite numbers) before anything uses it. docs/formats.md describes every
format field by field.
"""

import base64
import binascii
import json
import math
import struct

from . import jsonio
from .data import MAX_VOCAB, Tokenizer, describe_character, hidden_character, parse_documents
from .errors import TinyGPTError, is_finite_number
from .generate import Model
from .model import Config, blank_params, count_params, param_shapes
from .optim import flatten, unflatten
from .settings import BY_NAME, check_run_settings, short

FORMAT, VERSION = "tinygpt-model", 1
RUN_FORMAT, RUN_VERSION = "tinygpt-run", 1
# Version 2 is version 1 with its numbers packed (see `packed_run_state`): what the page
# saves.
PACKED_VERSION = 2
MAX_FILE_CHARS = 200_000_000  # the largest model the settings allow, written as JSON
MAX_META_CHARS = 10_000
# The largest model the page opens or trains: one letter of generation then costs under
# about 30 ms in Pyodide, loading its file a few tens of ms, so no task of the page is
# long. (Measured: scripts/measure_page_limits.py.) The CLI takes any size the settings
# allow.
PAGE_MAX_PARAMS = 150_000
# A model file within that size, as JSON (about 25 characters per weight, with room).
PAGE_MAX_FILE_BYTES = PAGE_MAX_PARAMS * 64
# The most matrices and rows a model of the page can have (the page's model-file worker
# refuses a file with more before handing anything to Python): 3 + 6 per layer, and
# 2 vocab + block + 9 n_embd per layer rows, within PAGE_MAX_PARAMS.
PAGE_MAX_MATRICES = 3 + 6 * int(BY_NAME["n_layer"].high)


def _page_max_rows():
    most, high = 0, lambda name: int(BY_NAME[name].high)
    outer = 2 * (MAX_VOCAB + 1) + high("block_size")  # wte, lm_head, wpe: rows per column
    for E in range(1, high("n_embd") + 1):
        for L in range(1, high("n_layer") + 1):
            rest = PAGE_MAX_PARAMS - 12 * L * E * E  # what the layers leave for the rest
            if rest >= 3 * E:  # at least one token, BOS and one position
                most = max(most, min(outer, rest // E) + 9 * L * E)
    return most


PAGE_MAX_ROWS = _page_max_rows()
# A saved run as JSON text, at most: a page-size model's weights and Adam's moments, a
# million steps' losses and a megabyte of text, every character of it escaped, with room.
MAX_RUN_CHARS = 40_000_000
_NUMBER_TYPES = {int, float}


def model_file(model, meta=None):
    """The model-file dict of a Model (or Trainer): see docs/formats.md."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "config": model.config.as_dict(),
        "chars": list(model.tokenizer.chars),
        "state_dict": model.params,
        "meta": dict(meta or {}),
    }


def _check_names(state_dict, shapes):
    """The first message about the weights: a matrix missing or one the config has not."""
    expected = {name for name, _, _ in shapes}
    if set(state_dict) != expected:
        missing, extra = expected - set(state_dict), set(state_dict) - expected
        first = sorted(missing or extra)[0]
        what = f"missing {first}" if missing else f"unexpected {short(first)}"
        raise TinyGPTError(f"The model's weights do not match its config ({what}).")


def check_params(state_dict, config, vocab_size, floats_checked=False):
    """Parameters as fresh lists of floats, after checking names, shapes and values
    (`floats_checked`: the caller built the matrices itself, from param_shapes, as fresh
    lists of finite floats, so only the names are checked here)."""
    if not isinstance(state_dict, dict):
        raise TinyGPTError("The model's weights are missing.")
    shapes = param_shapes(config, vocab_size)
    _check_names(state_dict, shapes)
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
    """Refuse a model bigger than the page can run without freezing (PAGE_MAX_PARAMS);
    returns its parameter count."""
    params = count_params(blank_params(config, vocab_size))
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
    config, tokenizer = check_header(data, for_page)
    params = check_params(data.get("state_dict"), config, tokenizer.vocab_size, floats_checked)
    return Model(config, tokenizer, params, check_meta(data.get("meta", {})))


def check_header(data, for_page=False):
    """(Config, Tokenizer) of a parsed model file's fields other than its weights: the
    format, version, config and vocabulary, and for the page its size (all cheap)."""
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
    return config, tokenizer


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


def dumps_steps(model, meta=None):
    """dumps in pieces: a generator that yields after each matrix of the weights and
    returns the very text dumps gives (json.dumps writes an object as "{" + "key: value"
    pairs joined by ", " + "}", so the parts can be written one at a time)."""
    file = model_file(model, meta)
    weights = file["state_dict"]
    parts = []
    for i, (name, matrix) in enumerate(weights.items(), 1):
        parts.append(f"{json.dumps(name)}: {json.dumps(matrix)}")
        yield f"Writing model.json: {i} of {len(weights)} matrices."
    pairs = [f"{json.dumps(key)}: " + ("{" + ", ".join(parts) + "}" if key == "state_dict"
                                       else json.dumps(value)) for key, value in file.items()]
    return "{" + ", ".join(pairs) + "}"


def quoted_loss(meta):
    """The loss a model's meta quotes: its validation loss, else its loss (None if it
    quotes neither as a number >= 0)."""
    for key in ("val_loss", "loss"):
        if is_finite_number(meta.get(key)) and meta[key] >= 0:
            return float(meta[key])
    return None


# --- the page's way in: a model file parsed in a worker, and base64 data ---------------------
def decode_base64(data, what, max_bytes):
    """The bytes of base64 text from the page, refused if damaged or over `max_bytes`."""
    if not isinstance(data, str) or len(data) > max_bytes * 4 // 3 + 4:
        raise TinyGPTError(f"{what} is too large: the limit is {max_bytes:,} bytes.")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise TinyGPTError(f"{what} is damaged (its encoding is broken).") from None


def load_page_parts(header, rows, weights):
    """A validated Model (for the page) from a model file that the page parsed: JSON.parse
    in a worker is far faster than Python's json in Pyodide, and keeps the page free.

    The parts: the file's fields without the weights (`header`, JSON text), the length of
    every row of every matrix of its state_dict (`rows`: {name: [length, or -1 for a row
    that is not a list], or -1 for a matrix that is not a list}, or None when there is no
    state_dict object), and all its numbers in that order (`weights`: base64 float64;
    anything not a number is NaN). The file is rebuilt exactly as it was, and checked by
    the same code as any model file (load_model_file), with the same messages.

    Cheap checks first: the header (config, vocabulary, the page's size limit), then the
    matrices' names and rows against the shapes the config gives (a file with more rows
    than its model has gets the message of its first wrong shape at once: a few MB of
    `[]` are millions of rows), then the amount of numbers, before any is decoded.
    """
    data = jsonio.loads(header, "The model file", MAX_META_CHARS * 10)
    config, tokenizer = check_header(data, for_page=True)
    if isinstance(rows, dict):
        _check_row_counts(rows, param_shapes(config, tokenizer.vocab_size))
        count = sum(n for lengths in rows.values() if isinstance(lengths, list)
                    for n in lengths if type(n) is int and n >= 0)
    else:
        count = 0
    # base64 holds 3 bytes in every 4 characters: the length says the amount before decoding.
    if not isinstance(weights, str) or len(weights) != 4 * -(-8 * count // 3):
        raise TinyGPTError("The model file's weights do not match its shapes.")
    raw = decode_base64(weights, "The model file's weights", PAGE_MAX_FILE_BYTES)
    floats = struct.unpack(f"<{len(raw) // 8}d", raw[: len(raw) // 8 * 8])
    state_dict, at = None, 0
    if isinstance(rows, dict):
        state_dict = {}
        for name, lengths in rows.items():
            if not isinstance(lengths, list):
                state_dict[name] = None
                continue
            matrix = []
            for n in lengths:
                if type(n) is not int or n < 0 or at + n > len(floats):
                    matrix.append(None)
                    continue
                matrix.append(list(floats[at : at + n]))
                at += n
            state_dict[name] = matrix
    if at != len(floats) or len(raw) % 8:
        raise TinyGPTError("The model file's weights do not match its shapes.")
    return load_model_file({**data, "state_dict": state_dict}, True)


def _check_row_counts(rows, shapes):
    """check_params' first messages for a state_dict given as row lengths (see
    load_page_parts): the matrices' names, then, if there are more rows than the shapes
    have, the first matrix whose row count is wrong; found without a loop over the rows."""
    _check_names(rows, shapes)
    given = sum(len(lengths) for lengths in rows.values() if isinstance(lengths, list))
    if given > sum(count for _, count, _ in shapes):
        for name, count, cols in shapes:
            if not isinstance(rows[name], list) or len(rows[name]) != count:
                raise TinyGPTError(
                    f"The weights {name} have the wrong shape: expected {count} x {cols}."
                )


# --- saved runs: "format": "tinygpt-run" ---------------------------------------------------------
_SHAPE = ("n_embd", "n_head", "n_layer", "block_size")


def run_state(trainer):
    """A Trainer's whole run as JSON-able data (version 1): settings, text, step, losses,
    weights, Adam's moments, the random generator's state and the meta."""
    version, internal, gauss_next = trainer.rng.getstate()
    return {
        "format": RUN_FORMAT,
        "version": RUN_VERSION,
        "settings": dict(trainer.settings),
        "text": trainer.text,
        "step": trainer.step_count,
        "losses": list(trainer.losses),
        "params": trainer.params,
        "optimizer": trainer.optimizer.state(),
        "rng": [version, list(internal), gauss_next],
        "meta": dict(trainer.meta),
    }


def packed_run_state(trainer):
    """`run_state` with its many numbers (weights, Adam's moments, losses) packed as one
    base64 string of little-endian float64s, in that order: version 2 of the run
    format. The page saves a run every second or so; packing costs about a millisecond
    where JSON lists of floats cost tens."""
    state = run_state(trainer)
    floats = flatten(state.pop("params"), trainer.params)
    optimizer = state.pop("optimizer")
    floats += optimizer["m"] + optimizer["v"] + state.pop("losses")
    data = base64.b64encode(struct.pack(f"<{len(floats)}d", *floats)).decode("ascii")
    return {**state, "version": PACKED_VERSION, "floats": data}


def unpack_run_state(state):
    """A version 2 (packed) run state as version 1; anything else comes back as it is."""
    if not isinstance(state, dict) or state.get("version") != PACKED_VERSION:
        return state
    try:
        settings = check_run_settings(state.get("settings"))
        vocab_size = Tokenizer.from_docs(parse_documents(state.get("text"))).vocab_size
        config = Config(*(settings[k] for k in _SHAPE))
    except TinyGPTError as e:
        raise TinyGPTError(f"The saved run cannot be read: {e}") from None
    return _unpacked(state, config, vocab_size)


def _unpacked(state, config, vocab_size):
    """unpack_run_state of a version 2 state whose model is known to be `config`: the
    amount of numbers is checked against it before any is decoded."""
    like = blank_params(config, vocab_size)
    count = count_params(like)
    step, data = state.get("step"), state.get("floats")
    if not isinstance(step, int) or isinstance(step, bool) or not 0 <= step:
        raise TinyGPTError("The saved run has an invalid step count.")
    expected = 8 * (3 * count + step)
    # base64 holds 3 bytes in every 4 characters: the length says the amount before decoding.
    if not isinstance(data, str) or len(data) != 4 * -(-expected // 3):
        raise TinyGPTError("The saved run's numbers are damaged (the wrong amount of them).")
    try:
        raw = base64.b64decode(data, validate=True)
    except ValueError:
        raw = b""
    if len(raw) != expected:
        raise TinyGPTError("The saved run's numbers are damaged (the wrong amount of them).")
    floats = list(struct.unpack(f"<{len(raw) // 8}d", raw))
    unpacked = {k: v for k, v in state.items() if k != "floats"}
    unpacked.update(
        version=RUN_VERSION,
        params=unflatten(floats[:count], like),
        optimizer={"m": floats[count : 2 * count], "v": floats[2 * count : 3 * count]},
        losses=floats[3 * count :],
    )
    return unpacked


def load_run(state, new_run, check=None):
    """The run saved in `state` (either version), checked field by field, cheap checks
    first: its settings and text make a PendingRun (`new_run.begin(text, settings)`,
    new_run being the Trainer class), on which `check(pending)` (if given: the page's
    limits) runs before any number is decoded; then the weights, Adam's moments and the
    rest are checked, and `new_run.from_pending(pending, params)` makes the run with its
    own weights (none drawn afresh), so it continues with exactly the losses of the run
    it was saved from."""
    if not isinstance(state, dict) or state.get("format") != RUN_FORMAT:
        raise TinyGPTError("This is not a saved TinyGPT run.")
    if state.get("version") not in (RUN_VERSION, PACKED_VERSION):
        raise TinyGPTError(
            f"This saved run has version {short(state.get('version'))}; this TinyGPT "
            f"reads versions {RUN_VERSION} and {PACKED_VERSION}. It comes from another "
            "version of TinyGPT."
        )
    settings = state.get("settings")
    if not isinstance(settings, dict):
        raise TinyGPTError("The saved run has no settings.")
    try:
        pending = new_run.begin(state.get("text"), settings)
    except TinyGPTError as e:
        if state.get("version") == PACKED_VERSION:
            raise TinyGPTError(f"The saved run cannot be read: {e}") from None
        raise
    if check is not None:
        check(pending)
    vocab_size = pending.tokenizer.vocab_size
    if state.get("version") == PACKED_VERSION:
        state = _unpacked(state, pending.config, vocab_size)
    step, losses = state.get("step"), state.get("losses")
    steps = pending.settings["steps"]
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= steps:
        raise TinyGPTError("The saved run has an invalid step count.")
    if not isinstance(losses, list) or len(losses) != step:
        raise TinyGPTError("The saved run's loss history does not match its step count.")
    params = check_params(state.get("params"), pending.config, vocab_size)
    # A loss is a cross-entropy: a number >= 0, as every real run's.
    if not all(is_finite_number(x) and x >= 0 for x in losses):
        raise TinyGPTError("The saved run's loss history holds something that is not a loss "
                           "(a finite number, 0 or more).")
    rng = _check_rng(state.get("rng"))
    meta = dict(check_meta(state.get("meta", {}), "The saved run's description"))
    trainer = new_run.from_pending(pending, params)
    trainer.optimizer.load_state(state.get("optimizer"))
    trainer.step_count = step
    trainer.losses = [float(x) for x in losses]
    trainer.rng.setstate(rng)
    trainer.meta = meta
    return trainer


def _check_rng(rng):
    """random.Random's state, as run_state saves it, checked before setstate (which takes
    huge ints and raises OverflowError, or accepts a broken state silently)."""
    ok = (
        isinstance(rng, list)
        and len(rng) == 3
        and rng[0] == 3
        and isinstance(rng[1], list)
        and len(rng[1]) == 625
        and all(type(x) is int and 0 <= x < 2**32 for x in rng[1])
        and rng[1][-1] <= 624
        and (rng[2] is None or is_finite_number(rng[2]))
    )
    if not ok:
        raise TinyGPTError("The saved run's random state is damaged.")
    return (3, tuple(rng[1]), None if rng[2] is None else float(rng[2]))
