"""The site's standard library archives, made at build time inside Pyodide itself (run
under Node by scripts/python-archives.mjs), so that the modules kept are the ones this
very Pyodide imports, and the compiled ones carry its bytecode.

Which modules a page starts with is measured, not listed by hand: what Pyodide's own
start-up imported (before this file ran), plus what the pages' start paths import
(the package unpacked with `pyodide.unpackArchive`, as the pages do; every module of
tinygpt a page imports; the bridge's error path and a lesson cell's traceback
exercised), plus every standard module those tinygpt files or the lessons' code cells
name in an `import`, wherever it sits (a function's import runs only when it is called),
and every module the pages' JavaScript imports (`pyodide.pyimport`). Left out: what only
the command line (`__main__.py`) and the benchmarks (`bench.py`, the benchmark page)
import, such as argparse, statistics and the profilers; the benchmark page mounts the
rest of the standard library (python-package.js), and a lesson cell gets it on demand. The
browser tests then run the real pages on that set.

It writes, into OUT:
- python_stdlib.zip: those modules as source without docstrings and comments (what
  `python -OO` drops anyway; it makes the archive half the size), deflated. A first
  visit downloads this one.
- python_stdlib.compiled.zip: the same sources, each beside its bytecode (an unchecked
  hash-based .pyc from this Pyodide), which zipimport loads without compiling: compiling
  the start-up modules is most of Python's start. The playground takes it once the
  service worker has the site; the lessons' workers always.
- python_stdlib.rest.zip: every other module of Pyodide's standard library, untouched.
  The lessons' workers mount it the first time a cell imports one of them
  (tinygpt/stdlib_rest.py), so a learner can import anything Pyodide has; the benchmark
  page mounts it at start.
"""

import ast
import importlib
import importlib.util
import io
import sys
import zipfile
from importlib import _bootstrap_external

# Start-up, before anything here ran (the caller reads this file right after loadPyodide).
STARTUP_MODULES = set(sys.modules)

# Codecs that `open(..., encoding=...)` or `codecs.lookup` may ask for by name on a page
# (UTF-8 itself is part of the start-up): tiny, and not worth a bug report.
EXTRA_MODULES = ["encodings.ascii", "encodings.latin_1", "encodings.utf_8_sig"]

# Modules of the package that no page starts with: the command line, and the benchmarks'
# Python (the benchmark page takes the whole standard library).
NOT_ON_PAGES = {"__main__", "bench"}

STAMP = (1980, 1, 1, 0, 0, 0)  # every entry's date: the same sources make the same bytes


class _DropDocstrings(ast.NodeTransformer):
    def _drop(self, node):
        self.generic_visit(node)
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
        return node

    visit_Module = visit_ClassDef = visit_FunctionDef = visit_AsyncFunctionDef = _drop


def strip(source):
    """The module's code without docstrings and comments (ast.unparse writes no comments)."""
    return ast.unparse(_DropDocstrings().visit(ast.parse(source))) + "\n"


def imported_names(source):
    """Every absolute module name `source` imports, wherever the import sits."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module)
    return names


def page_modules(package_dir):
    """The package's files a page may import (not the PyTorch project export.py hands
    out, which is data here, nor NOT_ON_PAGES)."""
    return [f for f in sorted(package_dir.rglob("*.py"))
            if "pytorch" not in f.parts and f.stem not in NOT_ON_PAGES]


def module_name(file, package_dir):
    """tinygpt/exercises/train.py -> tinygpt.exercises.train; a package's __init__.py is
    the package itself."""
    parts = [package_dir.name, *file.relative_to(package_dir).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_imports(package_dir):
    """Every absolute module name the package's page modules import."""
    names = set()
    for file in page_modules(package_dir):
        names |= imported_names(file.read_text(encoding="utf-8"))
    return names


def exercise(package_dir, cells):
    """Run the pages' start paths so that what they import lazily is imported here too."""
    sys.path.insert(0, str(package_dir.parent))
    for file in page_modules(package_dir):
        importlib.import_module(module_name(file, package_dir))
    from tinygpt import lessons, web

    web.call("no such function", "{}")  # the bridge's answer to a bug: a traceback
    lessons.run_cell("print(sum(range(3)))\n1 / 0", {})  # a cell's output and its traceback
    import pyodide.ffi  # noqa: F401 - web.install's, on the page

    names = package_imports(package_dir)
    for code in cells:
        try:
            names |= imported_names(code)
        except SyntaxError:
            pass  # a cell that shows a mistake on purpose imports nothing
    stdlib = sys.stdlib_module_names
    for name in sorted(names):
        if name.partition(".")[0] in stdlib:
            importlib.import_module(name)
    for name in EXTRA_MODULES:
        importlib.import_module(name)


def module_files(names, stdlib_zip):
    """The archive members of modules loaded from the standard library's zip."""
    prefix = stdlib_zip.rstrip("/") + "/"
    files = set()
    for name in names:
        file = getattr(sys.modules.get(name), "__file__", None) or ""
        if file.startswith(prefix):
            files.add(file[len(prefix):])
    return files


def _entry(name):
    info = zipfile.ZipInfo(name, STAMP)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def write_archives(stdlib_zip, package_dir, out, cells=()):
    """Write the three archives into the folder `out`; answers what was kept."""
    exercise(package_dir, cells)
    kept = module_files(set(sys.modules), stdlib_zip)
    source = zipfile.ZipFile(stdlib_zip)
    members = [i for i in source.infolist() if not i.is_dir()]
    with zipfile.ZipFile(out / "python_stdlib.zip", "w", compresslevel=9) as small, \
            zipfile.ZipFile(out / "python_stdlib.compiled.zip", "w", compresslevel=9) as compiled, \
            zipfile.ZipFile(out / "python_stdlib.rest.zip", "w", compresslevel=9) as rest:
        for info in sorted(members, key=lambda i: i.filename):
            data = source.read(info)
            if info.filename not in kept:
                rest.writestr(_entry(info.filename), data)
                continue
            text = strip(data)
            # The name zipimport gives the module's code when it compiles the source.
            code = compile(text, f"{stdlib_zip}/{info.filename}", "exec", dont_inherit=True)
            pyc = _bootstrap_external._code_to_hash_pyc(
                code, importlib.util.source_hash(text.encode()), checked=False)
            small.writestr(_entry(info.filename), text)
            compiled.writestr(_entry(info.filename), text)
            compiled.writestr(_entry(info.filename + "c"), bytes(pyc))
    return sorted(kept)


def main(stdlib_zip, package_dir, out, cells):
    """cells: the source of every code cell of the lessons (and an `import` line for each
    module the pages' JavaScript imports)."""
    from pathlib import Path

    # Cells print; the build's output is not the place for it.
    quiet = io.StringIO()
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = quiet
    try:
        return write_archives(stdlib_zip, Path(package_dir), Path(out), list(cells))
    finally:
        sys.stdout, sys.stderr = stdout, stderr
