"""The pieces a GPT is trained with: the learner's (their exercises' code, where it passes
its check) or the package's own, one for one.

The learner's attention head and loss call `softmax`; in a run they get the run's
softmax (the learner's, once that exercise passes), so that "your pieces" are used
together, as in the package, where gpt() and the loss call one softmax.
"""

from dataclasses import dataclass, field

from ..data import Tokenizer
from ..errors import TinyGPTError
from ..model import softmax as package_softmax
from ..value import Value as PackageValue
from .attention import causal_head
from .checker import EXERCISES, check
from .learner import LearnerError, Printed, load
from .sampling import package_sample_next
from .training import mean_loss, package_adam_update

PIECES = tuple(EXERCISES)  # exercise ids, in the order of the lessons
# What each exercise's code gives a run: (the name in its code, the Pieces field).
PROVIDES = {
    "encode": (("encode", "encode"), ("decode", "decode")),
    "backward": (("Value", "Value"),),
    "softmax": (("softmax", "softmax"),),
    "attention-head": (("attention_head", "attention_head"),),
    "loss": (("name_loss", "name_loss"),),
    "adam": (("adam_update", "adam_update"),),
    "sample": (("sample_next", "sample_next"),),
}


def package_encode(text, chars):
    return Tokenizer(chars).encode(text)


def package_decode(ids, chars):
    return Tokenizer(chars).decode(ids)


@dataclass
class Pieces:
    Value: type = PackageValue
    encode: object = package_encode
    decode: object = package_decode
    softmax: object = package_softmax
    attention_head: object = None
    name_loss: object = None
    adam_update: object = package_adam_update
    sample_next: object = package_sample_next
    yours: tuple = ()  # the exercises whose code is in use, in PIECES order
    _namespaces: dict = field(default_factory=dict, repr=False)


def assemble(namespaces):
    """Pieces from {exercise id: the namespace of its learner's code}; the package's
    own stand in for the others."""
    pieces = Pieces(yours=tuple(p for p in PIECES if p in namespaces))
    for piece in pieces.yours:
        for name, attribute in PROVIDES[piece]:
            setattr(pieces, attribute, namespaces[piece][name])
    softmax = pieces.softmax
    if "attention-head" in namespaces:
        namespaces["attention-head"]["softmax"] = softmax
    else:
        pieces.attention_head = lambda qs, ks, vs: causal_head(qs, ks, vs, softmax)
    if "loss" in namespaces:
        namespaces["loss"]["softmax"] = softmax
    else:
        pieces.name_loss = lambda logits, targets: mean_loss(logits, targets, softmax)
    pieces._namespaces = namespaces
    return pieces


def passing_code(codes):
    """({exercise id: code that passes its check}, {exercise id: why TinyGPT's stands in})."""
    if not isinstance(codes, dict):
        raise TinyGPTError("The exercises' code must come as {exercise id: code}.")
    unknown = [str(key)[:40] for key in codes if key not in EXERCISES]
    if unknown:
        raise TinyGPTError(f"There is no exercise {unknown[0]!r}.")
    passing, standing_in = {}, {}
    for piece in PIECES:
        code = codes.get(piece)
        if code is None:
            standing_in[piece] = "not written yet"
            continue
        answer = check(piece, code)
        if answer["state"] == "pass":
            passing[piece] = code
        else:
            standing_in[piece] = "does not pass its check yet"
    return passing, standing_in


def load_pieces(passing, only=None):
    """Pieces with the learner's code for the exercises in `passing` (or only for the
    exercise `only`), each loaded afresh."""
    namespaces = {}
    for piece, code in passing.items():
        if only is None or piece == only:
            ex = EXERCISES[piece]
            try:
                namespaces[piece] = load(code, piece, ex.names, Printed())
            except LearnerError:  # it passed a moment ago: code that changes as it runs
                continue
    return assemble(namespaces)
