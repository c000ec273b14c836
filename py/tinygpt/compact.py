"""Compact model bytes: the weights of a model as packed floats, for links.

A model file (checkpoint.py) is JSON, readable but about 20 characters per weight.
A link carries the same model as bytes, which the page then compresses:

    b"TGPT"  version (1 byte)  bits per weight (1 byte: 16, 32 or 64)
    header length (4 bytes, little-endian)  header (UTF-8 JSON: config, chars, meta)
    the weights, matrix by matrix in the order of model.param_shapes, row by row,
    little-endian IEEE floats of that many bits

64 bits keep every weight exactly; 32 and 16 round them. Reading is as strict as
reading a model file: the header and the weights go through checkpoint's checks.
"""

import json
import math
import struct

from . import checkpoint, jsonio
from .errors import TinyGPTError
from .generate import Model
from .model import Config, blank_params, count_params, param_shapes
from .scheduler import finish

MAGIC, VERSION = b"TGPT", 1
FORMATS = {16: "e", 32: "f", 64: "d"}  # bits per weight -> struct code
MAX_BYTES = 16_000_000  # about 2 million exact weights; far more than a link can carry
MAX_HEADER_BYTES = 20_000
_PREFIX = struct.Struct("<4sBBI")
# A shared model may carry fewer bits per weight if its loss moves by less than this.
MAX_LOSS_CHANGE = 0.01


def quantize(params, bits):
    """The weights rounded to `bits` per number (64: unchanged)."""
    code = FORMATS[bits]
    out = {}
    for name, mat in params.items():
        out[name] = [list(struct.unpack(f"<{len(row)}{code}", _pack_row(row, code)))
                     for row in mat]
    return out


def _pack_row(row, code):
    try:
        return struct.pack(f"<{len(row)}{code}", *row)
    except (OverflowError, struct.error):  # beyond float16's range (65504)
        raise TinyGPTError(f"A weight is too large to store in {8 * struct.calcsize(code)} "
                           "bits; share the exact model instead.") from None


def choose_bits(model, docs, exact=False):
    """The fewest bits per weight that keep the model's loss: {bits, loss, loss_shared}.

    16 and then 32 bits are tried unless `exact`; one is used when it leaves every
    weight unchanged, or moves the loss on `docs` by less than MAX_LOSS_CHANGE (`loss`
    and `loss_shared`: before and after rounding, None when nothing was measured).
    Otherwise, or without documents to measure on, 64 bits: every weight exact.
    """
    return finish(choose_bits_steps(model, docs, exact))


def choose_bits_steps(model, docs, exact=False):
    """choose_bits in pieces (the page's Share model is a job of short tasks): a generator
    that yields a line saying what it does after each piece (a matrix rounded, a name's
    loss measured) and returns choose_bits' answer, computed exactly as choose_bits does."""
    answer = {"bits": 64, "loss": None, "loss_shared": None}
    if exact:
        return answer
    base = None
    for bits in (16, 32):
        rounded = {}
        try:
            for name, matrix in model.params.items():
                rounded.update(quantize({name: matrix}, bits))
                yield f"Rounding the weights to {bits} bits ({len(rounded)} of " \
                      f"{len(model.params)} matrices)."
        except TinyGPTError:
            continue  # a weight beyond float16's range
        if rounded == model.params:
            answer["bits"] = bits
            break
        if not docs:
            continue
        if base is None:
            base = yield from _mean_loss(model, docs, "the model's loss")
        shared = Model(model.config, model.tokenizer, rounded)
        loss = yield from _mean_loss(shared, docs, f"the loss with {bits}-bit weights")
        if abs(loss - base) < MAX_LOSS_CHANGE:
            answer.update(bits=bits, loss=base, loss_shared=loss)
            break
    return answer


def _mean_loss(model, docs, what):
    """Model.evaluate_docs (the same sum, in the same order), a document per piece."""
    total = 0.0
    for i, doc in enumerate(docs, 1):
        total += model.document_loss(doc)
        yield f"Measuring {what} on {len(docs)} names: {i} done."
    return total / len(docs)


def pack(model, meta, bits):
    """The compact bytes of a model (a Model or Trainer) with `bits` per weight."""
    if bits not in FORMATS:
        raise TinyGPTError("The precision must be 16, 32 or 64 bits per weight.")
    header = json.dumps(
        {"config": model.config.as_dict(), "chars": list(model.tokenizer.chars), "meta": meta},
        ensure_ascii=False,
        allow_nan=False,
    ).encode("utf-8")
    if len(header) > MAX_HEADER_BYTES:
        raise TinyGPTError("The model's description is too long to share.")
    code = FORMATS[bits]
    shapes = param_shapes(model.config, model.tokenizer.vocab_size)
    weights = b"".join(_pack_row(row, code) for name, _, _ in shapes for row in model.params[name])
    data = _PREFIX.pack(MAGIC, VERSION, bits, len(header)) + header + weights
    if len(data) > MAX_BYTES:
        raise TinyGPTError(
            f"This model is too large for a link ({len(data):,} bytes; the limit is "
            f"{MAX_BYTES:,}). Download the model file instead."
        )
    return data


def unpack(data, for_page=False):
    """A validated Model (and its bits per weight) from compact bytes. For the page, a
    model bigger than the page can run is refused from its header, before its weights."""
    if not isinstance(data, (bytes, bytearray)):
        raise TinyGPTError("The shared model is not binary data.")
    if len(data) > MAX_BYTES:
        raise TinyGPTError(f"The shared model is too large: the limit is {MAX_BYTES:,} bytes.")
    if len(data) < _PREFIX.size or data[:4] != MAGIC:
        raise TinyGPTError("This is not a TinyGPT model link (it may be truncated or damaged).")
    magic, version, bits, header_len = _PREFIX.unpack_from(data)
    if version != VERSION:
        raise TinyGPTError(
            f"This model link has version {version}; this TinyGPT reads version {VERSION}."
        )
    if bits not in FORMATS:
        raise TinyGPTError(f"This model link stores {bits}-bit weights; TinyGPT knows 16, 32, 64.")
    if header_len > MAX_HEADER_BYTES or _PREFIX.size + header_len > len(data):
        raise TinyGPTError("The model link's description is damaged or too long.")
    start = _PREFIX.size + header_len
    try:
        header_text = bytes(data[_PREFIX.size : start]).decode("utf-8")
    except UnicodeDecodeError:
        raise TinyGPTError("The model link's description is damaged (not UTF-8 text).") from None
    header = jsonio.loads(header_text, "The model link's description")
    if not isinstance(header, dict) or not isinstance(header.get("config"), dict):
        raise TinyGPTError("The model link does not describe a model.")
    chars = header.get("chars")
    cfg = header["config"]
    if set(cfg) != {"n_embd", "n_head", "n_layer", "block_size"} or not isinstance(chars, list):
        raise TinyGPTError("The model link's config must give n_embd, n_head, n_layer and "
                           "block_size, and a vocabulary.")
    config = Config(**cfg)
    if for_page:
        checkpoint.check_page_size(config, len(chars) + 1)
    shapes = param_shapes(config, len(chars) + 1)
    size = struct.calcsize(FORMATS[bits])
    count = count_params(blank_params(config, len(chars) + 1))
    if len(data) - start != count * size:
        raise TinyGPTError(
            f"The model link holds {len(data) - start:,} bytes of weights; a model of this size "
            f"needs {count * size:,}. The link is truncated or damaged."
        )
    flat = struct.unpack_from(f"<{count}{FORMATS[bits]}", data, start)
    # Floats by construction, so one sum finds NaN and infinities: it is finite unless one
    # is there (or finite huge weights overflow it, which the exact check then clears).
    # In Pyodide, summing 100,000 weights takes a millisecond, checking each one 20.
    if not math.isfinite(sum(flat)) and not all(map(math.isfinite, flat)):
        raise TinyGPTError("The model link's weights contain a value that is not a finite number.")
    state_dict, i = {}, 0
    for name, rows, cols in shapes:
        state_dict[name] = [list(flat[j : j + cols]) for j in range(i, i + rows * cols, cols)]
        i += rows * cols
    model = checkpoint.load_model_file(
        {
            "format": checkpoint.FORMAT,
            "version": checkpoint.VERSION,
            "config": cfg,
            "chars": chars,
            "state_dict": state_dict,
            "meta": header.get("meta", {}),
        },
        floats_checked=True,
    )
    return model, bits
