// py/playground.snapshot: the playground's Python as it is once started, made at build
// time so a returning visitor's page need not start it again. It is the memory of a
// Pyodide (the site's own, run under Node) started as app/python-package.js starts the
// playground's (the compiled standard library, the package unpacked, `tinygpt.web`
// imported), written by `pyodide.makeMemorySnapshot()` and gzipped. A page restores it
// with `loadPyodide({ _loadSnapshot })` (python-package.js), which skips Python's own start
// and the imports: about half the time and processor of a start (README, "How long it all
// takes"). Both are marked experimental in Pyodide 0.29 / 314: the page falls back to a
// plain start whenever a restore fails, and the browser tests start from it in Chromium,
// Firefox and WebKit.
//
// The snapshot is only valid with the very files it was made from (Pyodide's WebAssembly
// and the compiled standard library, whose zip directory Python has read into its memory;
// the package's modules, imported already), so it is made from dist/'s copies and kept in
// node_modules/.cache/ under a hash of them, as python-archives.mjs keeps its archives.
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import zlib from "node:zlib";

export const SNAPSHOT = "py/playground.snapshot";

// What the snapshot is made from: the files in dist/ it depends on, and the code that
// makes it and that starts the pages' Python (their options must be the snapshot's).
const INPUTS = [
  "vendor/pyodide/pyodide.mjs",
  "vendor/pyodide/pyodide.asm.mjs",
  "vendor/pyodide/pyodide.asm.wasm",
  "vendor/pyodide/pyodide-lock.json",
  "vendor/pyodide/python_stdlib.compiled.zip",
  "py/tinygpt.zip",
];
const CODE = ["scripts/python-snapshot.mjs", "app/python-package.js"];

export async function writePythonSnapshot({ root, dist, nm }) {
  const hash = createHash("sha256");
  for (const file of INPUTS) hash.update(file).update(fs.readFileSync(path.join(dist, file)));
  for (const file of CODE) hash.update(file).update(fs.readFileSync(path.join(root, file)));
  const cached = path.join(nm, ".cache", "tinygpt-snapshot", `${hash.digest("hex").slice(0, 20)}.gz`);
  if (!fs.existsSync(cached)) {
    const packed = zlib.gzipSync(await makeSnapshot(dist), { level: 9 });
    fs.mkdirSync(path.dirname(cached), { recursive: true });
    fs.writeFileSync(`${cached}.${process.pid}`, packed); // then renamed: parallel builds never see half a file
    fs.renameSync(`${cached}.${process.pid}`, cached);
  }
  fs.copyFileSync(cached, path.join(dist, SNAPSHOT));
}

// The memory of the site's Pyodide, started as python-package.js starts the playground's
// (with its options and its unpacking; its startPython cannot run here: it downloads with
// fetch, which Node cannot do from files).
async function makeSnapshot(dist) {
  const site = pathToFileURL(`${dist}/`);
  const { HOME, installTinygpt, pyodideOptions } = await import(new URL("app/python-package.js", site));
  const { loadPyodide } = await import(new URL("vendor/pyodide/pyodide.mjs", site));
  const options = pyodideOptions(site, true);
  for (const key of ["indexURL", "stdLibURL"]) options[key] = fileURLToPath(options[key]); // Node's Pyodide takes paths
  const pyodide = await loadPyodide({ ...options, _makeSnapshot: true });
  const archive = fs.readFileSync(path.join(dist, "py", "tinygpt.zip"));
  await installTinygpt(pyodide, site, HOME, Promise.resolve([new Uint8Array(archive)]));
  pyodide.runPython("import tinygpt.web");
  return pyodide.makeMemorySnapshot();
}

// `node scripts/python-snapshot.mjs [dist]`: makes (or takes from the cache) the snapshot
// of a built site.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  await writePythonSnapshot({ root, dist: path.resolve(process.argv[2] || path.join(root, "dist")), nm: path.join(root, "node_modules") });
}
