"""The rest of the standard library, mounted the first time code asks for it.

The pages start with the part of Pyodide's standard library that TinyGPT and Pyodide
import (scripts/python_archives.py measures it); everything else sits in a second
archive. In the lessons' workers a code cell may import anything, so `install` puts a
finder last on `sys.meta_path`: when a standard module is not found among the ones the
page started with, it fetches the other archive once (the worker can wait for it:
`fetch_archive` is a synchronous request), puts it on `sys.path`, and the import goes
on as if it had been there all along. Names that are not standard modules (`numpy`)
never trigger the download and fail as they would anywhere.

Standard library only; nothing here touches the browser (the worker hands in the fetch).
"""

import importlib
import importlib.abc
import importlib.machinery
import sys


class RestOfStdlib(importlib.abc.MetaPathFinder):
    def __init__(self, fetch_archive, path, is_stdlib=None):
        self.fetch_archive = fetch_archive  # () -> the archive's bytes
        self.path = path  # where to write it in the file system
        self.is_stdlib = is_stdlib or (lambda top: top in sys.stdlib_module_names)
        self.mounted = False

    def find_spec(self, name, path=None, target=None):
        if not self.is_stdlib(name.partition(".")[0]):
            return None
        if not self.mounted:
            self.mount()
        # A module of a package the page started with (json.tool) is looked for in that
        # package's folder of this archive; a package of its own (xml) at its top.
        package = name.rpartition(".")[0]
        where = f"{self.path}/{package.replace('.', '/')}" if package else self.path
        return importlib.machinery.PathFinder.find_spec(name, [where])

    def mount(self):
        try:
            data = self.fetch_archive()
            # A JavaScript Uint8Array in the browser (copied at once), bytes elsewhere.
            data = data.to_bytes() if hasattr(data, "to_bytes") else bytes(data)
        except Exception as error:  # the network's or the browser's: say what it means
            raise ImportError(
                "The rest of Python's standard library could not be loaded "
                f"({str(error)[:200]}). Check the connection and run the cell again."
            ) from None
        with open(self.path, "wb") as file:
            file.write(data)
        self.mounted = True
        sys.path.append(self.path)
        importlib.invalidate_caches()


def install(fetch_archive, path):
    """Look in the archive at `path` (written from `fetch_archive()`) for standard
    modules missing from the start-up set. Answers the finder."""
    finder = RestOfStdlib(fetch_archive, path)
    sys.meta_path.append(finder)
    return finder
