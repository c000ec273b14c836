"""The preset datasets: present, listed correctly, and usable by the tokenizer as they are."""

import json
import unicodedata

import pytest
from helpers import ROOT

from tinygpt.data import MAX_TEXT_CHARS, MAX_VOCAB, Tokenizer, parse_documents

DATA = ROOT / "public" / "data"
INDEX = json.loads((DATA / "datasets.json").read_text(encoding="utf-8"))


def test_the_four_presets_are_listed_first_names_first():
    assert [d["id"] for d in INDEX] == ["first_names", "surnames", "pokemon", "cities"]
    for d in INDEX:
        assert d["title"] and d["description"] and d["source"] and d["license"]


@pytest.mark.parametrize("entry", INDEX, ids=[d["id"] for d in INDEX])
def test_each_file_matches_its_entry_and_loads(entry):
    text = (DATA.parent / entry["file"]).read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(text) <= MAX_TEXT_CHARS
    assert lines == [line.strip() for line in lines] and all(lines), "no blank or padded lines"
    assert len(set(lines)) == len(lines), "no duplicates"
    assert entry["count"] == len(lines)
    assert entry["chars"] == len(set("".join(lines)))
    assert text == unicodedata.normalize("NFC", text)
    assert text == text.lower()
    docs = parse_documents(text)
    assert len(docs) == len(lines)
    assert Tokenizer.from_docs(docs).vocab_size <= MAX_VOCAB


def test_census_names_are_the_known_lists():
    first = (DATA / "first_names.txt").read_text().split()
    assert {"mary", "james", "emma", "john"} <= set(first)
    surnames = (DATA / "surnames.txt").read_text().split()
    assert {"smith", "johnson", "williams"} <= set(surnames)


def test_the_other_two_bring_other_characters():
    chars = {d["id"]: d["chars"] for d in INDEX}
    assert chars["pokemon"] > chars["first_names"]  # punctuation, ♀ ♂, é
    assert chars["cities"] > 60  # accented letters of many languages
    cities = (DATA / "cities.txt").read_text(encoding="utf-8").split("\n")
    assert "são paulo" in cities and "zürich" in cities
