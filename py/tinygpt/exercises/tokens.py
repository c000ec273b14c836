"""Lesson 1's exercise: encode and decode a name with a vocabulary, as Tokenizer does."""

from ..data import Tokenizer
from .base import Exercise, Mistake, Wrong, returned
from .compare import show

SOLUTION = '''\
def encode(text, chars):
    """The token ids of `text`: BOS, then each character's index in `chars`, then BOS.

    `chars` is the vocabulary, a sorted list of characters; BOS is len(chars).
    """
    ids = {ch: i for i, ch in enumerate(chars)}  # as Tokenizer does
    bos = len(chars)
    return [bos] + [ids[ch] for ch in text] + [bos]


def decode(ids, chars):
    """The text of a list of token ids, with the BOS marks left out."""
    bos = len(chars)
    return "".join(chars[i] for i in ids if i != bos)
'''


def _with(old, new):
    assert old in SOLUTION, old
    return SOLUTION.replace(old, new)


ALPHABET = "abcdefghijklmnopqrstuvwxyz '-éö"


def random_case(rng, size):
    chars = sorted(rng.sample(ALPHABET, size))
    text = "".join(rng.choice(chars) for _ in range(rng.randint(0, 8)))
    return {"chars": chars, "text": text}


def reference(case):
    tokenizer = Tokenizer(case["chars"])
    ids = tokenizer.encode(case["text"])
    return {"encode": ids, "decode": tokenizer.decode(ids)}


def run(namespace, case):
    encode, decode = namespace["encode"], namespace["decode"]
    ids = returned(encode(case["text"], list(case["chars"])), "encode")
    if type(ids) not in (list, tuple) or not all(type(i) is int for i in ids):
        raise Wrong(f"encode must return a list of whole numbers (the ids), not {show(ids)}.")
    # decode gets the right ids, so that a mistake of encode's is not blamed on it
    text = returned(decode(reference(case)["encode"], list(case["chars"])), "decode")
    if type(text) is not str:
        raise Wrong(f"decode must return text (a str), not {show(text)}.")
    return {"encode": list(ids), "decode": text}


def show_case(case):
    return f"text = {case['text']!r}, chars = {case['chars']!r}"


def explain(case, difference, expected, actual):
    chars, bos = case["chars"], len(case["chars"])
    if difference.key == "encode":
        e, a = show(expected["encode"]), show(actual["encode"])
        return (f"encode({case['text']!r}, chars) with chars = {chars!r} (so BOS is {bos}) "
                f"should give {e}; yours gives {a}.")
    return (f"decode({expected['encode']!r}, chars) with chars = {chars!r} should give "
            f"{show(expected['decode'])}; yours gives {show(actual['decode'])}.")


EXERCISE = Exercise(
    id="encode",
    title="Encode and decode a name",
    lesson="tokens",
    names=("encode", "decode"),
    subject="Your encode or decode",
    solution=SOLUTION,
    fixed=(
        {"chars": ["a", "e", "m", "v"], "text": "ava"},
        {"chars": ["a", "e", "m", "v"], "text": "emma"},
        {"chars": ["a", "b"], "text": ""},
        {"chars": [" ", "a", "e", "n", "o", "z"], "text": "zoe anna"},
    ),
    random_case=random_case,
    sizes=(3, 8, 1, 12, 26, 5, 2, 31),
    run=run,
    reference=reference,
    explain=explain,
    show_case=show_case,
    mistakes=(
        Mistake(
            "bos-at-start-only",
            "A name is BOS, its letters, then BOS again: the second BOS marks where the "
            "name ends, so the model learns when to stop.",
            _with("return [bos] + [ids[ch] for ch in text] + [bos]",
                  "return [bos] + [ids[ch] for ch in text]"),
            {"chars": ["a", "b"], "text": "ab"},
        ),
        Mistake(
            "bos-is-zero",
            "BOS is len(chars), the id after the last character's: the ids 0 to "
            "len(chars) - 1 belong to the characters.",
            _with("    bos = len(chars)\n    return [bos]", "    bos = 0\n    return [bos]"),
            {"chars": ["a", "b", "c"], "text": "cab"},
        ),
        Mistake(
            "decode-keeps-bos",
            "decode must leave the BOS ids out: chars has no character for BOS (its id, "
            "len(chars), is one past the end of the list).",
            _with('"".join(chars[i] for i in ids if i != bos)', '"".join(chars[i] for i in ids)'),
            {"chars": ["a", "b"], "text": "ab"},
        ),
    ),
)
