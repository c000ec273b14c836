"""tinygpt/stdlib_rest.py: the lessons' workers import standard modules the pages do not
start with from a second archive, fetched the first time one is asked for. Here the
"standard library" is a few made-up names, so CPython's own never interferes."""

import importlib
import sys
import zipfile

import pytest

from tinygpt.stdlib_rest import RestOfStdlib

STD = {"restmod_a", "restpkg_b", "keptpkg_c"}  # the made-up standard library


@pytest.fixture
def world(tmp_path):
    """A kept package on the path (keptpkg_c, without its module `extra`), the rest as a
    zip's bytes, and a finder that counts its fetches; everything undone afterwards."""
    kept = tmp_path / "kept"
    (kept / "keptpkg_c").mkdir(parents=True)
    (kept / "keptpkg_c" / "__init__.py").write_text("WHERE = 'kept'\n")
    archive = tmp_path / "built.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("restmod_a.py", "VALUE = 41 + 1\n")
        z.writestr("restpkg_b/__init__.py", "")
        z.writestr("restpkg_b/inner.py", "from . import helper\nVALUE = helper.VALUE * 2\n")
        z.writestr("restpkg_b/helper.py", "VALUE = 21\n")
        z.writestr("keptpkg_c/extra.py", "from . import WHERE\nVALUE = 'extra of ' + WHERE\n")
    fetches = []

    def fetch():
        fetches.append(1)
        return archive.read_bytes()

    finder = RestOfStdlib(fetch, str(tmp_path / "rest.zip"), is_stdlib=STD.__contains__)
    saved_path, saved_meta = list(sys.path), list(sys.meta_path)
    sys.path.insert(0, str(kept))
    sys.meta_path.append(finder)
    importlib.invalidate_caches()
    yield finder, fetches
    sys.path[:], sys.meta_path[:] = saved_path, saved_meta
    for name in list(sys.modules):
        if name.partition(".")[0] in STD:
            del sys.modules[name]


def test_nothing_is_fetched_until_a_missing_standard_module_is_imported(world):
    finder, fetches = world
    import keptpkg_c  # on the path already

    assert keptpkg_c.WHERE == "kept" and fetches == []
    with pytest.raises(ModuleNotFoundError):
        import not_a_standard_module  # noqa: F401 - not in the (made-up) standard library
    assert fetches == [] and not finder.mounted


def test_modules_packages_and_submodules_of_kept_packages_come_from_the_rest(world):
    finder, fetches = world
    import restmod_a
    import restpkg_b.inner
    from keptpkg_c import extra

    assert restmod_a.VALUE == 42
    assert restpkg_b.inner.VALUE == 42  # a package of the rest, with its relative imports
    assert extra.VALUE == "extra of kept"  # a missing module of a package that was kept
    assert fetches == [1]  # fetched once, for all of them


def test_a_standard_module_missing_from_the_rest_too_fails_as_usual(world):
    finder, fetches = world
    finder.is_stdlib = lambda top: True
    with pytest.raises(ModuleNotFoundError):
        import restmod_zzz  # noqa: F401
    assert fetches == [1]


def test_a_failed_fetch_says_what_to_do_and_is_tried_again(world):
    finder, fetches = world
    good = finder.fetch_archive

    def offline():
        raise OSError("the network is off")

    finder.fetch_archive = offline
    with pytest.raises(ImportError, match="could not be loaded .*the network is off.*again"):
        import restmod_a  # noqa: F401
    finder.fetch_archive = good
    import restmod_a  # noqa: F811

    assert restmod_a.VALUE == 42 and fetches == [1]


def test_install_puts_the_finder_last():
    from tinygpt import stdlib_rest

    saved = list(sys.meta_path)
    try:
        finder = stdlib_rest.install(lambda: b"", "/nonexistent/rest.zip")
        assert sys.meta_path[-1] is finder and sys.meta_path[:-1] == saved
    finally:
        sys.meta_path[:] = saved
