"""scripts/python_archives.py, the build's trimming of the standard library: the source
it ships runs as the original does, without docstrings and comments; and it finds every
import of the package, wherever it sits (the browser tests check the archives the build
made: tests/e2e/test_boot.py)."""

import importlib.util
import json
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location(
    "python_archives", ROOT / "scripts" / "python_archives.py")
python_archives = importlib.util.module_from_spec(spec)
spec.loader.exec_module(python_archives)

SOURCE = '''"""A module DOCTEXT."""
from __future__ import annotations
# a COMMENTTEXT
import math


class Point:
    """A class DOCTEXT."""

    def __init__(self, x):
        """A method DOCTEXT."""
        self.x = x  # a trailing COMMENTTEXT

    def norm(self) -> float:
        return math.fabs(self.x)


def only_a_docstring():
    """Nothing but this DOCTEXT."""


async def later():
    """An async DOCTEXT."""
    return "s" "tring"  # not a DOCTEXT: a value


def text():
    return """kept: a string that is not a docstring"""
'''


def load(source, name):
    module = types.ModuleType(name)
    exec(compile(source, name, "exec"), module.__dict__)
    return module


def test_stripped_source_has_no_docstrings_or_comments_and_runs_the_same():
    stripped = python_archives.strip(SOURCE)
    assert "DOCTEXT" not in stripped and "COMMENTTEXT" not in stripped and "#" not in stripped
    original, trimmed = load(SOURCE, "original"), load(stripped, "trimmed")
    assert original.__doc__ and trimmed.__doc__ is None
    assert trimmed.Point.__doc__ is None and trimmed.Point.__init__.__doc__ is None
    assert trimmed.Point(-3).norm() == original.Point(-3).norm() == 3
    assert trimmed.only_a_docstring() is None
    assert trimmed.text() == original.text()
    coroutine = trimmed.later()
    try:
        coroutine.send(None)
    except StopIteration as done:
        assert done.value == "string"


def test_a_stripped_standard_module_works_as_the_original():
    # A real module of the standard library, stripped, against the original.
    source = Path(json.decoder.__file__).read_text(encoding="utf-8")
    stripped = python_archives.strip(source)
    assert len(stripped) < len(source) * 0.8
    decoder = load(stripped, "json_decoder_stripped")
    text = '{"a": [1, 2.5, "\\u00e9", null, true], "b": {"c": -1e-3}}'
    assert decoder.JSONDecoder().decode(text) == json.loads(text)


def test_every_import_of_the_package_is_found_wherever_it_sits():
    names = python_archives.imported_names(
        "import a.b, c\n"
        "from d.e import f\n"
        "from . import local\n"
        "def g():\n    import h\n    if x:\n        from i import j\n"
        "try:\n    import k\nexcept ImportError:\n    pass\n"
    )
    assert names == {"a.b", "c", "d.e", "h", "i", "k"}
    package = python_archives.package_imports(ROOT / "py" / "tinygpt")
    # web.install's imports sit inside it; export's zipfile at the top.
    assert {"js", "pyodide.ffi", "zipfile", "json"} <= package
    # Not what only the command line (argparse) and the benchmarks (statistics) import,
    # nor the PyTorch project's torch, which is data the package hands out.
    assert not {"argparse", "statistics", "cProfile", "torch"} & package


def test_the_start_up_modules_are_read_from_the_standard_library_archive():
    fake = types.ModuleType("fake_kept")
    fake.__file__ = "/lib/python314.zip/email/message.py"
    elsewhere = types.ModuleType("fake_elsewhere")
    elsewhere.__file__ = "/home/pyodide/tinygpt/data.py"
    sys.modules.update(fake_kept=fake, fake_elsewhere=elsewhere)
    try:
        files = python_archives.module_files({"fake_kept", "fake_elsewhere", "sys"},
                                             "/lib/python314.zip")
    finally:
        del sys.modules["fake_kept"], sys.modules["fake_elsewhere"]
    assert files == {"email/message.py"}


def test_every_page_module_of_the_package_gets_its_import_name():
    """A module in a subpackage (tinygpt/exercises/train.py) is imported by its dotted
    name, a package by its folder's: every file the build hands to a page imports."""
    package = ROOT / "py" / "tinygpt"
    names = [python_archives.module_name(f, package) for f in python_archives.page_modules(package)]
    assert "tinygpt" in names and "tinygpt.exercises" in names
    assert "tinygpt.exercises.train" in names and "tinygpt.session" in names
    assert not any(n.endswith("__init__") or "pytorch" in n for n in names)
    for name in names:
        assert importlib.util.find_spec(name) is not None, name
