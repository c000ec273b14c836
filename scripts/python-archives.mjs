// The site's Python as archives, made with the very Pyodide the site ships (from
// node_modules, run under Node):
// - py/tinygpt.zip: the package (the files pyscript.toml lists), unpacked once by every
//   page with `pyodide.unpackArchive` (one request instead of one per file), but for
// - py/tinygpt-lessons.zip: what only the lessons and the benchmark use (lessonsOnly),
//   which the playground never downloads;
// - py/tinygpt.bytecode.zip: the bytecode of py/tinygpt.zip's modules, unpacked beside
//   them by the pages that start with the compiled standard library (python-package.js);
//   the lessons' archive has its modules' bytecode in it, as the lessons' workers always
//   start so;
// - vendor/pyodide/python_stdlib{,.compiled,.rest}.zip: the standard library split into
//   what the pages start with and the rest (scripts/python_archives.py says how);
// - vendor/pyodide/pyodide-lock.json: the lock file without its packages (the site loads
//   none: they would come from a CDN), so Pyodide's start reads 100 bytes, not 119 kB.
//
// Starting Pyodide and compiling takes several seconds, so the result is kept in
// node_modules/.cache/ under a hash of everything it is made from, and reused.
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { loadPyodide } from "pyodide";

const BUILD = "/build"; // a folder of Pyodide's in-memory file system
const HOME = "/home/pyodide"; // where the pages unpack the package, as here
const OUTPUTS = [
  "py/tinygpt.zip",
  "py/tinygpt.bytecode.zip",
  "py/tinygpt-lessons.zip",
  "vendor/pyodide/python_stdlib.zip",
  "vendor/pyodide/python_stdlib.compiled.zip",
  "vendor/pyodide/python_stdlib.rest.zip",
  "vendor/pyodide/pyodide-lock.json",
  "vendor/pyodide/kept.json",
];

// The package's files that only the lessons' workers and the benchmark page import (the
// command line's too: no page runs it), in their own archive.
export const lessonsOnly = (file) =>
  file.startsWith("exercises/") || ["lessons.py", "stdlib_rest.py", "bench.py", "__main__.py"].includes(file);

// The code of the lessons' cells and exercises (<pre class="cell-source"> and
// <pre class="exercise-source">), as the page reads it.
function lessonCells(html) {
  const entities = { "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'", "&amp;": "&" };
  return [...html.matchAll(/<pre class="(?:cell|exercise)-source">([\s\S]*?)<\/pre>/g)]
    .map((m) => m[1].replace(/&(lt|gt|quot|#39|amp);/g, (e) => entities[e]));
}

// Modules the pages' JavaScript imports into Python (`pyodide.pyimport("tinygpt.web")`;
// not the benchmark page's, which takes the whole standard library).
function javascriptImports(root) {
  const files = fs.readdirSync(path.join(root, "app"), { recursive: true })
    .filter((f) => f.endsWith(".js")).map((f) => path.join(root, "app", f));
  const names = files.flatMap((file) => [...fs.readFileSync(file, "utf8").matchAll(/pyimport\("([\w.]+)"\)/g)].map((m) => m[1]));
  return [...new Set(names)].sort();
}

// files: the package's files as pyscript.toml lists them ("data.py", "pytorch/train.py").
// Writes OUTPUTS into dist (kept.json, the modules kept, goes to the cache only) and
// answers the standard library's files the pages start with.
export async function writePythonArchives({ root, dist, nm, files }) {
  const cells = lessonCells(fs.readFileSync(path.join(root, "lessons.html"), "utf8"));
  // Python to look through for imports: the lessons' cells, and the pages' pyimports.
  cells.push(...javascriptImports(root).map((name) => `import ${name}`));
  const hash = createHash("sha256");
  for (const file of ["pyodide/package.json", "pyodide/python_stdlib.zip", "pyodide/pyodide-lock.json"]) {
    hash.update(fs.readFileSync(path.join(nm, file)));
  }
  for (const file of ["scripts/python_archives.py", "scripts/python-archives.mjs"]) {
    hash.update(fs.readFileSync(path.join(root, file)));
  }
  for (const file of files) hash.update(file).update(fs.readFileSync(path.join(root, "py", "tinygpt", file)));
  hash.update(JSON.stringify(cells));
  const cache = path.join(nm, ".cache", "tinygpt-python", hash.digest("hex").slice(0, 20));

  if (!OUTPUTS.every((name) => fs.existsSync(path.join(cache, name)))) {
    const made = await makeArchives({ root, nm, files, cells });
    const scratch = `${cache}.${process.pid}`; // then renamed: parallel builds never see half a cache
    for (const [name, bytes] of Object.entries(made)) {
      fs.mkdirSync(path.dirname(path.join(scratch, name)), { recursive: true });
      fs.writeFileSync(path.join(scratch, name), bytes);
    }
    fs.rmSync(cache, { recursive: true, force: true });
    fs.renameSync(scratch, cache);
  }
  for (const name of OUTPUTS.filter((n) => n !== "vendor/pyodide/kept.json")) {
    fs.mkdirSync(path.dirname(path.join(dist, name)), { recursive: true });
    fs.copyFileSync(path.join(cache, name), path.join(dist, name));
  }
  return JSON.parse(fs.readFileSync(path.join(cache, "vendor/pyodide/kept.json"), "utf8"));
}

async function makeArchives({ root, nm, files, cells }) {
  const pyodide = await loadPyodide({ indexURL: path.join(nm, "pyodide") + path.sep, stdout: () => {}, stderr: () => {} });
  const { FS } = pyodide;
  const [major, minor] = pyodide.runPython("import sys; sys.version_info[:2]").toJs();
  const stdlibZip = `/lib/python${major}${minor}.zip`;

  // The package archive, made by Python's zipfile, unpacked as the pages unpack it.
  FS.mkdirTree(`${BUILD}/src/tinygpt`);
  for (const file of files) {
    const dest = `${BUILD}/src/tinygpt/${file}`;
    FS.mkdirTree(dest.slice(0, dest.lastIndexOf("/")));
    FS.writeFile(dest, fs.readFileSync(path.join(root, "py", "tinygpt", file)));
  }
  const playground = files.filter((f) => !lessonsOnly(f));
  const archives = {
    "tinygpt.zip": { files: playground, sources: true, bytecode: false },
    "tinygpt.bytecode.zip": { files: playground, sources: false, bytecode: true },
    "tinygpt-lessons.zip": { files: files.filter(lessonsOnly), sources: true, bytecode: true },
  };
  pyodide.globals.set("archives", pyodide.toPy(archives));
  // Bytecode: each module's checked hash-based .pyc from this Pyodide, where Python's
  // import looks for it (tinygpt/__pycache__/), so that a start imports the package
  // without compiling it (a visitor's playground is ready about 0.2 s sooner; README,
  // "How the pages start"), while a source changed in the page's files is still compiled
  // afresh. Not for the PyTorch project's files, which the export hands out and no page
  // imports. Apart from the playground's sources, which a first visit downloads without
  // it: the bytecode is 1.7 times their size, zipped (the standard library's, 3 times).
  pyodide.runPython(`
import importlib.util, zipfile
from importlib import _bootstrap_external
for archive, parts in archives.items():
    with zipfile.ZipFile("${BUILD}/" + archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name in sorted(parts["files"]):
            with open("${BUILD}/src/tinygpt/" + name, "rb") as f:
                source = f.read()
            if parts["sources"]:
                z.writestr(zipfile.ZipInfo("tinygpt/" + name, (1980, 1, 1, 0, 0, 0)), source,
                           zipfile.ZIP_DEFLATED)
            if not parts["bytecode"] or not name.endswith(".py") or name.startswith("pytorch/"):
                continue
            path = "${HOME}/tinygpt/" + name  # where the pages unpack it
            code = compile(source, path, "exec", dont_inherit=True)
            pyc = _bootstrap_external._code_to_hash_pyc(
                code, importlib.util.source_hash(source), checked=True)
            cached = importlib.util.cache_from_source(path)[len("${HOME}/"):]
            z.writestr(zipfile.ZipInfo(cached, (1980, 1, 1, 0, 0, 0)), bytes(pyc),
                       zipfile.ZIP_DEFLATED)
`);
  const [packageZip, bytecodeZip, lessonsZip] = Object.keys(archives).map((name) => FS.readFile(`${BUILD}/${name}`));
  for (const zip of [packageZip, lessonsZip]) pyodide.unpackArchive(zip, "zip", { extractDir: HOME });

  FS.mkdirTree(`${BUILD}/out`);
  pyodide.runPython(fs.readFileSync(path.join(root, "scripts", "python_archives.py"), "utf8"));
  let kept;
  try {
    kept = pyodide.globals.get("main")(stdlibZip, `${HOME}/tinygpt`, `${BUILD}/out`, pyodide.toPy(cells)).toJs();
  } catch (error) {
    // Python's own traceback, not Node's report of the throw (which quotes the whole of
    // pyodide.asm.mjs, its one line of source).
    throw new Error(`python_archives.py failed inside Pyodide:\n${error.message}`, { cause: error });
  }

  const lock = JSON.parse(fs.readFileSync(path.join(nm, "pyodide", "pyodide-lock.json"), "utf8"));
  const made = {
    "py/tinygpt.zip": packageZip,
    "py/tinygpt.bytecode.zip": bytecodeZip,
    "py/tinygpt-lessons.zip": lessonsZip,
    "vendor/pyodide/pyodide-lock.json": JSON.stringify({ info: lock.info, packages: {} }),
    "vendor/pyodide/kept.json": JSON.stringify(kept),
  };
  for (const name of ["python_stdlib.zip", "python_stdlib.compiled.zip", "python_stdlib.rest.zip"]) {
    made[`vendor/pyodide/${name}`] = FS.readFile(`${BUILD}/out/${name}`);
  }
  return made;
}
