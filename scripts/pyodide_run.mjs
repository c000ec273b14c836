// Runs a Python file under Pyodide in Node, with the tinygpt package importable, to
// measure what the page's Python costs in Pyodide (the page's interpreter) without a
// browser:  node scripts/pyodide_run.mjs scripts/measure_work.py [args...]
// Pyodide in Node runs the same WebAssembly as in Chromium (the same V8), so ratios of
// times agree with the page's; absolute times depend on the machine's load.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadPyodide } from "pyodide";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const [script, ...args] = process.argv.slice(2);
if (!script) {
  console.error("usage: node scripts/pyodide_run.mjs FILE.py [args...]");
  process.exit(2);
}

const pyodide = await loadPyodide();
const copy = (from, to) => {
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    if (entry.name === "__pycache__") continue;
    const source = path.join(from, entry.name);
    const target = `${to}/${entry.name}`;
    if (entry.isDirectory()) {
      pyodide.FS.mkdirTree(target);
      copy(source, target);
    } else {
      pyodide.FS.writeFile(target, fs.readFileSync(source));
    }
  }
};
pyodide.FS.mkdirTree("/work/py/tinygpt");
copy(path.join(root, "py", "tinygpt"), "/work/py/tinygpt");
pyodide.FS.mkdirTree("/work/data");
copy(path.join(root, "public", "data"), "/work/data");
pyodide.setStdout({ batched: (line) => console.log(line) });
pyodide.setStderr({ batched: (line) => console.error(line) });
pyodide.globals.set("ARGV", pyodide.toPy([script, ...args]));
try {
  await pyodide.runPythonAsync(`
import sys
sys.path.insert(0, "/work/py")
sys.argv = list(ARGV)
`);
  await pyodide.runPythonAsync(fs.readFileSync(script, "utf8"), { filename: script });
} catch (error) {
  console.error(String(error.message || error));
  process.exit(1);
}
