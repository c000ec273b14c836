// How every Pyodide of the site starts (the playground, the lessons' workers, the
// benchmark page): Pyodide from this site, the standard library the pages start with,
// and the tinygpt package unpacked from its archive (py/tinygpt.zip, built from the files
// pyscript.toml lists), with, for the lessons and the benchmark, the archive of what only
// they use (py/tinygpt-lessons.zip: the lessons' and exercises' modules, the benchmark's
// and the command line's), which the playground never downloads.
//
// The standard library and the package come in two forms with the same modules
// (scripts/python-archives.mjs): source, the smaller download, or compiled (each module
// beside its bytecode: the package's in py/tinygpt.bytecode.zip, unpacked beside its
// sources), which starts sooner because nothing is compiled: about a second sooner for
// the standard library, a fifth for the package. The playground takes the source on a
// first visit and the compiled one once the service worker has the whole site in its
// cache; the lessons' workers always take the compiled one (python-worker.js; the
// lessons' archive has its bytecode in it).
import { loadPyodide } from "../vendor/pyodide/pyodide.mjs";

export const HOME = "/home/pyodide";

// The standard library archive a page (or a worker started by it) should load.
export const stdlibName = (compiled) => (compiled ? "python_stdlib.compiled.zip" : "python_stdlib.zip");

// Starts Pyodide with the package on its path. site: the site's root URL; compiled: see
// above; lessons: with the lessons' archive too; onStage(text): called as each stage begins.
export async function startPython(site, { compiled = false, lessons = false, onStage = () => {} } = {}) {
  const archive = packageArchives(site, lessons, compiled); // meanwhile
  archive.catch(() => {}); // reported below, once Pyodide is up
  const indexURL = new URL("vendor/pyodide/", site).href;
  onStage("Loading Pyodide");
  const pyodide = await loadPyodide({
    indexURL,
    stdLibURL: new URL(stdlibName(compiled), indexURL).href,
    packages: [],
    // Bytecode written to the in-memory file system would be gone on the next visit.
    env: { PYTHONDONTWRITEBYTECODE: "1" },
  });
  onStage("Loaded Pyodide");
  await installTinygpt(pyodide, site, HOME, archive);
  onStage("Loaded files");
  return pyodide;
}

// The package's archives, downloaded side by side (the bytecode and the lessons' one
// only if asked for).
function packageArchives(site, lessons, compiled = false) {
  const names = ["py/tinygpt.zip"];
  if (compiled) names.push("py/tinygpt.bytecode.zip");
  if (lessons) names.push("py/tinygpt-lessons.zip");
  return Promise.all(names.map((name) => fetchBytes(new URL(name, site))));
}

// Unpacks the package into `home` and puts that folder first on Python's path.
export async function installTinygpt(pyodide, site, home = HOME, archives = packageArchives(site, true)) {
  for (const archive of await archives) pyodide.unpackArchive(archive, "zip", { extractDir: home });
  pyodide.runPython(`import sys; sys.path.insert(0, ${JSON.stringify(home)})`);
}

// Puts the rest of the standard library (the modules the pages do not start with) on
// Python's path: for the benchmark page, whose Python profiles and summarises its runs.
export async function mountRestOfStdlib(pyodide, site) {
  const archive = await fetchBytes(new URL("vendor/pyodide/python_stdlib.rest.zip", site));
  pyodide.FS.writeFile("/lib/python_stdlib.rest.zip", new Uint8Array(archive));
  pyodide.runPython("import sys; sys.path.append('/lib/python_stdlib.rest.zip')");
}

export async function fetchBytes(url) {
  return (await download(url)).arrayBuffer();
}

export async function fetchText(url) {
  return (await download(url)).text();
}

// A file of the site, or an error that names it.
async function download(url) {
  const name = new URL(url, globalThis.location?.href).pathname.split("/").slice(-2).join("/");
  let response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new Error(`${name} could not be downloaded (${error.message})`, { cause: error });
  }
  if (!response.ok) throw new Error(`${name} could not be downloaded (HTTP ${response.status})`);
  return response;
}
