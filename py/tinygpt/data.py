"""Lesson 1 - tokens: documents, the character tokenizer, and the train/validation split.

A language model predicts the next token. Here a token is one character, and a
document is one line of the dataset (one name). The special token BOS marks both
the start and the end of a document.
"""

import random
import unicodedata

from .errors import TinyGPTError

# What the page can hold and train on comfortably; the CLI enforces the same limits
# so a file that trains in the terminal also trains in the browser.
MAX_TEXT_CHARS = 1_000_000
MAX_VOCAB = 256  # distinct characters
MAX_DOC_CHARS = 1_000  # longer lines are certainly not "names"; the block only sees the start
# Invisible "format" characters that belong in names: the zero-width non-joiner of
# Persian and other scripts, and the zero-width joiner of emoji sequences.
ALLOWED_FORMAT_CHARS = frozenset("\u200c\u200d")


def hidden_character(text):
    """The first character of `text` that people's text must not hold, or None.

    One rule wherever text enters (training data, vocabularies, names on a card, saved
    names): no control characters (Cc: tabs, NUL, escapes), no lone surrogates (Cs: not
    text at all), and no invisible format characters (Cf: bidi overrides that reorder
    what is shown, zero-width spaces) except the two joiners names really use. The page's
    JavaScript applies the same rule (app/letters.js), checked against this one by a test.
    """
    for ch in text:
        category = unicodedata.category(ch)
        if category in ("Cc", "Cs") or (category == "Cf" and ch not in ALLOWED_FORMAT_CHARS):
            return ch
    return None


def describe_character(ch):
    """U+200E, as people can look it up."""
    return f"U+{ord(ch):04X}"


def parse_documents(text):
    """The non-empty lines of `text`, each stripped; raises TinyGPTError for unusable text."""
    if not isinstance(text, str):
        raise TinyGPTError("The data must be text: one name per line.")
    if len(text) > MAX_TEXT_CHARS:
        raise TinyGPTError(
            f"The data is {len(text):,} characters long; the limit is {MAX_TEXT_CHARS:,} "
            "(about 1 MB). Use a shorter list."
        )
    if "\x00" in text:
        raise TinyGPTError("The data looks like a binary file, not text: use a file of lines.")
    docs = [doc for doc in map(str.strip, text.split("\n")) if doc]
    if not docs:
        raise TinyGPTError("The data is empty: give at least one name, one per line.")
    if max(map(len, docs)) > MAX_DOC_CHARS:
        number, doc = next((i, d) for i, d in enumerate(docs, 1) if len(d) > MAX_DOC_CHARS)
        raise TinyGPTError(
            f"Line {number} is {len(doc):,} characters long; the limit is "
            f"{MAX_DOC_CHARS:,}. Put one short item per line."
        )
    chars = set("".join(docs))
    hidden = hidden_character("".join(sorted(chars)))  # each distinct character once
    if hidden is not None:
        number = next(i for i, doc in enumerate(docs, 1) if hidden in doc)
        raise TinyGPTError(
            f"Line {number} contains the invisible or control character "
            f"{describe_character(hidden)}; the data should be plain text, one name per line."
        )
    distinct = len(chars)
    if distinct > MAX_VOCAB:
        raise TinyGPTError(
            f"The data uses {distinct} different characters; the limit is {MAX_VOCAB}. "
            "Use a list of names rather than arbitrary text."
        )
    return docs


def shuffled_documents(text, seed):
    """The documents of `text` in the order training visits them, and the random
    generator after the shuffle (see shuffle_documents)."""
    docs = parse_documents(text)
    return docs, shuffle_documents(docs, seed)


def shuffle_documents(docs, seed):
    """Put `docs` in the order training visits them: random.seed(seed), then shuffle (in
    place). Returns the random generator, whose stream goes on to draw the initial
    parameters (exactly as microgpt.py does with the global `random`)."""
    rng = random.Random(seed)
    rng.shuffle(docs)
    return rng


class Tokenizer:
    """Characters to ids and back; id len(chars) is BOS, the start/end mark."""

    def __init__(self, chars):
        self.chars = list(chars)
        self.bos = len(self.chars)
        self.vocab_size = len(self.chars) + 1
        self._ids = {ch: i for i, ch in enumerate(self.chars)}

    @classmethod
    def from_docs(cls, docs):
        return cls(sorted(set("".join(docs))))

    def encode(self, doc):
        """[BOS] + one id per character + [BOS]."""
        return [self.bos] + self.ids(doc) + [self.bos]

    def ids(self, text):
        """The ids of the characters of `text`, with no BOS marks."""
        try:
            return [self._ids[ch] for ch in text]
        except KeyError as missing:
            raise TinyGPTError(
                f"The character {missing.args[0]!r} is not in this model's vocabulary "
                f"(it knows: {''.join(self.chars)})."
            ) from None

    def decode(self, ids):
        return "".join(self.chars[i] for i in ids if i != self.bos)


def split_documents(docs, val_fraction):
    """(train, validation): the last round(len * val_fraction) documents are held out."""
    if not 0 <= val_fraction <= 0.5:
        raise TinyGPTError("The validation split must be between 0 and 0.5.")
    n_val = round(len(docs) * val_fraction)
    if val_fraction > 0 and n_val == 0:
        n_val = 1
    if len(docs) - n_val < 1:
        raise TinyGPTError(
            "There are too few names to hold some out for validation: add names or set "
            "the validation split to 0."
        )
    return docs[: len(docs) - n_val], docs[len(docs) - n_val :]
