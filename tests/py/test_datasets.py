"""The preset datasets: present, listed correctly, and usable by the tokenizer as they are."""

import hashlib
import importlib.util
import json
import unicodedata

import pytest
from helpers import ROOT

from tinygpt.data import MAX_TEXT_CHARS, MAX_VOCAB, Tokenizer, parse_documents

DATA = ROOT / "public" / "data"
INDEX = json.loads((DATA / "datasets.json").read_text(encoding="utf-8"))
# microgpt.py's data is kept byte for byte as makemore ships it, repeated names included.
KEPT_AS_SHIPPED = {"makemore_names"}


def build_script():
    path = ROOT / "scripts" / "build_datasets.py"
    spec = importlib.util.spec_from_file_location("build_datasets", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_presets_are_listed_first_names_first():
    assert [d["id"] for d in INDEX] == [
        "first_names", "surnames", "pokemon", "cities", "makemore_names"
    ]
    for d in INDEX:
        assert d["title"] and d["description"] and d["source"] and d["license"]


@pytest.mark.parametrize("entry", INDEX, ids=[d["id"] for d in INDEX])
def test_each_file_matches_its_entry_and_loads(entry):
    text = (DATA.parent / entry["file"]).read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(text) <= MAX_TEXT_CHARS
    assert lines == [line.strip() for line in lines] and all(lines), "no blank or padded lines"
    if entry["id"] not in KEPT_AS_SHIPPED:
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


def test_makemore_names_is_microgpts_file_with_its_source_and_license():
    """The very bytes of makemore's names.txt at the pinned commit (what the build script
    checks a download against), its license text beside it, and an entry that names both."""
    script = build_script()
    raw = (DATA / "makemore_names.txt").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == script.MAKEMORE_FILES["names.txt"]
    license_text = (DATA / script.MAKEMORE_LICENSE_OUT).read_bytes()
    assert hashlib.sha256(license_text).hexdigest() == script.MAKEMORE_FILES["LICENSE"]
    assert b"MIT License" in license_text and b"Copyright (c) 2022 Andrej Karpathy" in license_text
    entry = next(d for d in INDEX if d["id"] == "makemore_names")
    assert "microgpt.py" in entry["title"] and "makemore" in entry["title"]
    assert entry["count"] == 32_033 and f"{entry['count']:,}" in entry["description"]
    assert script.MAKEMORE_COMMIT[:7] in entry["source"]
    assert entry["license"].startswith("MIT, Copyright (c) 2022 Andrej Karpathy")
    assert "Social Security" in entry["license"]
    sources = (DATA / "SOURCES.md").read_text(encoding="utf-8")
    assert script.MAKEMORE_COMMIT in sources and script.MAKEMORE_LICENSE_OUT in sources
    lines = raw.decode("ascii").split("\n")
    assert lines[:3] == ["emma", "olivia", "ava"] and len(set(lines)) < len(lines)
