// How every Pyodide of the site starts (the playground, the lessons' workers, the
// benchmark page): Pyodide from this site, the standard library the pages start with,
// and the tinygpt package unpacked from its archive (py/tinygpt.zip, built from the files
// pyscript.toml lists), with, for the lessons and the benchmark, the archive of what only
// they use (py/tinygpt-lessons.zip: the lessons' and exercises' modules, the benchmark's
// and the command line's), which the playground never downloads.
//
// The standard library comes in two forms with the same modules (scripts/python_archives.py):
// source, the smaller download, or compiled, which starts about a second sooner because
// nothing is compiled. The playground takes the source on a first visit and the compiled
// one once the service worker has the whole site in its cache; the lessons' workers
// always take the compiled one (python-worker.js).
//
// With the compiled one, the playground restores Python from the build's memory snapshot
// (SNAPSHOT below) instead of starting it: Python started, the package imported, in about
// half the time and processor. The lessons' workers start plainly: the reader's cells
// would find the build machine's state there (its time zone in `time.timezone`: Pyodide
// cannot read the zone again), which the package itself never reads.
import { loadPyodide } from "../vendor/pyodide/pyodide.mjs";

export const HOME = "/home/pyodide";

// The standard library archive a page (or a worker started by it) should load.
export const stdlibName = (compiled) => (compiled ? "python_stdlib.compiled.zip" : "python_stdlib.zip");

// The options every page's loadPyodide gets (scripts/python-snapshot.mjs makes the
// playground's snapshot with them too: a snapshot is only valid with these).
export function pyodideOptions(site, compiled) {
  const indexURL = new URL("vendor/pyodide/", site).href;
  return {
    indexURL,
    stdLibURL: new URL(stdlibName(compiled), indexURL).href,
    packages: [],
    // Bytecode written to the in-memory file system would be gone on the next visit.
    env: { PYTHONDONTWRITEBYTECODE: "1" },
  };
}

// The playground's Python as the build left it once started (scripts/python-snapshot.mjs):
// made with the compiled standard library, so only for a page that starts with that one.
export const SNAPSHOT = "py/playground.snapshot";
export const RESTORED = "Restored Python"; // the stage said when a start used the snapshot

// Starts Pyodide with the package on its path. site: the site's root URL; compiled: see
// above; snapshot: restore the playground's snapshot (with compiled only) instead of
// starting Python, or start it plainly if that fails; lessons: with the lessons' archive
// too; onStage(text): called as each stage begins; loadOptions: more options for
// loadPyodide (scripts/snapshot_cost.py times starts with and without the snapshot).
export async function startPython(
  site,
  { compiled = false, snapshot = false, lessons = false, onStage = () => {}, loadOptions = {} } = {},
) {
  const archive = packageArchives(site, lessons); // meanwhile
  archive.catch(() => {}); // reported below, once Pyodide is up
  const options = { ...pyodideOptions(site, compiled), ...loadOptions };
  onStage("Loading Pyodide");
  let pyodide = snapshot && compiled ? await restoreSnapshot(site, options) : null;
  if (pyodide) onStage(RESTORED);
  pyodide ??= await loadPyodide(options);
  onStage("Loaded Pyodide");
  await installTinygpt(pyodide, site, HOME, archive);
  onStage("Loaded files");
  return pyodide;
}

// Python restored from the snapshot, or null (said on the console) if anything fails: the
// page then starts Python plainly, a second slower but the same.
async function restoreSnapshot(site, options) {
  try {
    const packed = (await download(new URL(SNAPSHOT, site))).body;
    const memory = await new Response(packed.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer();
    const pyodide = await loadPyodide({ ...options, _loadSnapshot: new Uint8Array(memory) });
    // What Python drew as the build started it is in the snapshot: `random`'s generator
    // was seeded there, the same for every visitor. Seeded again from this browser.
    pyodide.runPython("import random; random.seed()");
    return pyodide;
  } catch (error) {
    console.warn(`Python starts without its snapshot: ${error?.message ?? error}`);
    return null;
  }
}

// The package's archives, downloaded side by side (the lessons' one only if asked for).
function packageArchives(site, lessons) {
  const names = lessons ? ["py/tinygpt.zip", "py/tinygpt-lessons.zip"] : ["py/tinygpt.zip"];
  return Promise.all(names.map((name) => fetchBytes(new URL(name, site))));
}

// Unpacks the package into `home` and puts that folder first on Python's path.
export async function installTinygpt(pyodide, site, home = HOME, archives = packageArchives(site, true)) {
  // (Files Python has not imported yet are read from here: unpacked after a restore too.)
  for (const archive of await archives) pyodide.unpackArchive(archive, "zip", { extractDir: home });
  pyodide.runPython(`import sys\nif ${JSON.stringify(home)} not in sys.path: sys.path.insert(0, ${JSON.stringify(home)})`);
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
