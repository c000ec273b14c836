"""Documents, the character tokenizer and the validation split."""

import random

import pytest
from helpers import NAMES as ALL_NAMES
from helpers import one_line

from tinygpt.data import (
    MAX_TEXT_CHARS,
    MAX_VOCAB,
    Tokenizer,
    parse_documents,
    shuffled_documents,
    split_documents,
)
from tinygpt.errors import TinyGPTError
from tinygpt.trainer import Trainer

NAMES = ALL_NAMES[-10:]  # ten names, some with accents, some longer than a block of 8


# --- parse_documents -------------------------------------------------------------------


def test_strips_lines_and_drops_empty_ones():
    text = "  emma \n\n\t\nolivia\r\n   \n ava\n\n"
    assert parse_documents(text) == ["emma", "olivia", "ava"]


def test_matches_microgpt_rule_on_random_text():
    rng = random.Random(3)
    pieces = ["", " ", "\t", "ab", "c d", "é", "日本", "  x  ", "\r"]
    for _ in range(200):
        lines = [rng.choice(pieces) + rng.choice(pieces) for _ in range(rng.randint(1, 8))]
        text = "\n".join(lines) + rng.choice(["", "\n", "\n\n"])
        want = [line.strip() for line in text.strip().split("\n") if line.strip()]
        if not want:
            with pytest.raises(TinyGPTError):
                parse_documents(text)
        elif any("\t" in d or "\r" in d for d in want):
            with pytest.raises(TinyGPTError):  # control characters inside a name
                parse_documents(text)
        else:
            assert parse_documents(text) == want


def test_inner_spaces_are_kept():
    assert parse_documents("mary ann\njean-luc\n") == ["mary ann", "jean-luc"]


@pytest.mark.parametrize("text", ["", "\n", "   ", " \n\t\n  \r\n", "\u00a0\n\u3000"])
def test_empty_or_whitespace_only_text_is_an_error(text):
    with pytest.raises(TinyGPTError) as e:
        parse_documents(text)
    assert one_line(str(e.value))
    assert "empty" in str(e.value)


def test_binary_text_is_an_error():
    with pytest.raises(TinyGPTError) as e:
        parse_documents("emma\x00\x01\x02olivia\n")
    assert one_line(str(e.value)) and "binary" in str(e.value)


def test_control_characters_are_an_error():
    with pytest.raises(TinyGPTError) as e:
        parse_documents("emma\nol\x07ivia\n")
    assert "U+0007" in str(e.value) and "Line 2" in str(e.value)


def test_too_large_text_is_an_error_that_names_the_limit():
    text = "abc\n" * (MAX_TEXT_CHARS // 4 + 1)
    assert len(text) > MAX_TEXT_CHARS
    with pytest.raises(TinyGPTError) as e:
        parse_documents(text)
    msg = str(e.value)
    assert one_line(msg)
    assert f"{MAX_TEXT_CHARS:,}" in msg


def test_text_at_the_limit_is_accepted():
    text = ("abc\n" * (MAX_TEXT_CHARS // 4))[:MAX_TEXT_CHARS]
    assert len(text) == MAX_TEXT_CHARS
    assert len(parse_documents(text)) == MAX_TEXT_CHARS // 4


def test_overlong_line_is_an_error():
    with pytest.raises(TinyGPTError) as e:
        parse_documents("emma\n" + "x" * 5000 + "\n")
    assert "Line 2" in str(e.value)


@pytest.mark.parametrize("value", [None, b"emma\nolivia", 42, ["emma"]])
def test_non_text_is_an_error(value):
    with pytest.raises(TinyGPTError):
        parse_documents(value)


def test_vocabulary_limit():
    ok = "\n".join(chr(0x4E00 + i) for i in range(MAX_VOCAB))
    assert len(parse_documents(ok)) == MAX_VOCAB
    too_many = "\n".join(chr(0x4E00 + i) for i in range(MAX_VOCAB + 1))
    with pytest.raises(TinyGPTError) as e:
        parse_documents(too_many)
    assert str(MAX_VOCAB) in str(e.value) and str(MAX_VOCAB + 1) in str(e.value)


def test_errors_are_value_errors():
    assert issubclass(TinyGPTError, ValueError)


# --- shuffle and tokenizer ---------------------------------------------------------------


def test_shuffle_is_random_seed_then_shuffle():
    text = "\n".join(NAMES)
    docs, rng = shuffled_documents(text, 42)
    want = list(NAMES)
    r = random.Random(42)
    r.shuffle(want)
    assert docs == want
    # the generator continues with the same stream (it then draws the parameters)
    assert rng.gauss(0, 0.08) == r.gauss(0, 0.08)


def test_tokenizer_is_sorted_characters_plus_bos():
    docs = ["emma", "zoé", "日本", "ß"]
    tok = Tokenizer.from_docs(docs)
    assert tok.chars == sorted(set("".join(docs)))
    assert tok.bos == len(tok.chars) and tok.vocab_size == len(tok.chars) + 1
    assert tok.encode("emma") == [tok.bos] + [tok.chars.index(c) for c in "emma"] + [tok.bos]


@pytest.mark.parametrize("doc", ["emma", "zoé", "日本", "straße", "😀a", "a b"])
def test_round_trip(doc):
    docs = ["emma", "zoé", "日本", "straße", "😀a", "a b"]
    tok = Tokenizer.from_docs(docs)
    ids = tok.encode(doc)
    assert ids[0] == ids[-1] == tok.bos and tok.bos not in ids[1:-1]
    assert len(ids) == len(doc) + 2
    assert all(0 <= i < tok.vocab_size for i in ids)
    assert tok.decode(ids) == doc
    assert tok.decode(ids[1:-1]) == doc


def test_unknown_character_is_a_clear_error():
    tok = Tokenizer.from_docs(["abc"])
    with pytest.raises(TinyGPTError) as e:
        tok.encode("abz")
    assert "'z'" in str(e.value) and one_line(str(e.value))


# --- validation split --------------------------------------------------------------------


def test_split_off_by_default():
    text = "\n".join(NAMES)
    t = Trainer(text, steps=5)
    assert t.val_docs == [] and len(t.train_docs) == len(NAMES)
    assert t.evaluate() is None


def test_split_is_deterministic_and_disjoint():
    text = "\n".join(NAMES * 3 + ["x" + n for n in NAMES])
    a = Trainer(text, steps=5, val_fraction=0.2)
    b = Trainer(text, steps=5, val_fraction=0.2)
    assert a.train_docs == b.train_docs and a.val_docs == b.val_docs
    assert len(a.val_docs) == round(40 * 0.2)
    assert len(a.train_docs) + len(a.val_docs) == 40
    # the split takes the last documents of the shuffled order
    docs, _ = shuffled_documents(text, 42)
    assert a.train_docs + a.val_docs == docs
    c = Trainer(text, steps=5, val_fraction=0.2, seed=43)
    assert c.val_docs != a.val_docs


def test_split_does_not_change_the_start_of_the_run():
    """The split is an extension: the parameters and the first steps stay the same."""
    text = "\n".join(NAMES * 2)
    plain = Trainer(text, steps=10)
    split = Trainer(text, steps=10, val_fraction=0.25)
    assert plain.params == split.params
    assert [plain.step() for _ in range(3)] == [split.step() for _ in range(3)]


def test_split_documents_bounds():
    docs = list("abcdefghij")
    assert split_documents(docs, 0) == (docs, [])
    assert split_documents(docs, 0.3) == (docs[:7], docs[7:])
    assert split_documents(docs, 0.01) == (docs[:9], docs[9:])  # at least one held out
    for bad in (-0.1, 0.6, 1.0):
        with pytest.raises(TinyGPTError):
            split_documents(docs, bad)
    with pytest.raises(TinyGPTError):
        split_documents(["only"], 0.5)
