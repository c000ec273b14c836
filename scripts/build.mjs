// Assembles dist/: the page, the JS shell, the Python package, the datasets, and the
// Pyodide / uPlot / CodeMirror runtimes from node_modules (so no request ever leaves the
// site's origin). Everything is referenced by relative URL, so dist/
// works under any sub-path such as GitHub Pages' /<repo>/.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";
import { CONTENT_TYPES } from "./content-types.mjs";
import { CSP } from "./csp.mjs";
import { writePythonArchives } from "./python-archives.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// TINYGPT_DIST lets parallel work build into its own folder; `dist/` otherwise.
const dist = path.resolve(process.env.TINYGPT_DIST || path.join(root, "dist"));
const nm = path.join(root, "node_modules");

// Pyodide files the page needs as they are (the rest of the npm package is Node-only or
// docs; its standard library and lock file are rewritten by python-archives.mjs).
const PYODIDE_FILES = ["pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm"];
const PAGES = ["index.html", "lessons.html"];
const HTML = ["index.html", "lessons.html", "bench/index.html"];

function copy(from, to, filter = () => true) {
  const stat = fs.statSync(from);
  if (stat.isDirectory()) {
    for (const name of fs.readdirSync(from)) copy(path.join(from, name), path.join(to, name), filter);
  } else if (filter(from)) {
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(from, to);
  }
}

// uPlot formats its axes' numbers in the browser's language, and builds that formatter
// as its module loads: a language `Intl` rejects (WebKitGTK under LANG=C says "C") threw
// there, and the whole page's code with it. This copy falls back to English instead.
const UPLOT_LOCALE = "const numFormatter = new Intl.NumberFormat(domEnv ? nav.language : 'en-US');";
const UPLOT_LOCALE_SAFE = "const numFormatter = (() => { try { return new Intl.NumberFormat(domEnv ? nav.language : 'en-US'); } catch { return new Intl.NumberFormat('en'); } })();";

function copyUplot() {
  const source = fs.readFileSync(path.join(nm, "uplot", "dist", "uPlot.esm.js"), "utf8");
  if (!source.includes(UPLOT_LOCALE)) throw new Error("uPlot no longer builds its number format as build.mjs expects: check its locale fallback");
  fs.mkdirSync(path.join(dist, "vendor", "uplot"), { recursive: true });
  fs.writeFileSync(path.join(dist, "vendor", "uplot", "uPlot.esm.js"), source.replace(UPLOT_LOCALE, UPLOT_LOCALE_SAFE));
  copy(path.join(nm, "uplot", "dist", "uPlot.min.css"), path.join(dist, "vendor", "uplot", "uPlot.min.css"));
}

// The package's files: its modules, and in pytorch/ the project export.py hands out.
const isPackageFile = (f) => /\.(py|md|txt)$/.test(f) && !f.includes("__pycache__");

// pyscript.toml lists the package's files the site ships (py/tinygpt.zip and py/tinygpt-lessons.zip). Every file
// of the package must be listed, or `import` (or export.py) fails only in the browser;
// check here so the mistake shows at build time. Answers the list.
function packageFiles() {
  const toml = fs.readFileSync(path.join(root, "pyscript.toml"), "utf8");
  const listed = [...toml.matchAll(/^"\.\/py\/tinygpt\/([\w/]+\.\w+)"/gm)].map((m) => m[1]);
  const files = listFiles(path.join(root, "py", "tinygpt")).map((f) => f.split(path.sep).join("/"));
  const missing = files.filter(isPackageFile).filter((m) => !listed.includes(m));
  if (missing.length) {
    throw new Error(`pyscript.toml does not list: ${missing.join(", ")}`);
  }
  const gone = listed.filter((m) => !files.includes(m));
  if (gone.length) throw new Error(`pyscript.toml lists files that do not exist: ${gone.join(", ")}`);
  return listed;
}

function listFiles(dir, base = dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? listFiles(full, base) : [path.relative(base, full)];
  });
}

// The lessons' code editor: CodeMirror 6 with Python, bundled into one ES module.
function bundleEditor() {
  buildSync({
    stdin: {
      contents: [
        'export { EditorView, basicSetup } from "codemirror";',
        'export { python } from "@codemirror/lang-python";',
        'export { keymap } from "@codemirror/view";',
        'export { indentWithTab } from "@codemirror/commands";',
      ].join("\n"),
      resolveDir: root,
    },
    bundle: true,
    format: "esm",
    minify: true,
    legalComments: "eof",
    outfile: path.join(dist, "vendor", "codemirror", "editor.js"),
  });
}

// The settings table, recipes and limits, from Python (the one source of them), so the
// page has its form and limits before Pyodide starts.
function writeSchema() {
  const python = process.env.PYTHON || (process.platform === "win32" ? "python" : "python3");
  const json = execFileSync(python, ["-m", "tinygpt", "schema"], {
    env: { ...process.env, PYTHONPATH: path.join(root, "py") },
    encoding: "utf8",
  });
  JSON.parse(json); // fail the build, not the page, if it is not JSON
  fs.writeFileSync(path.join(dist, "schema.json"), json);
}

// Each module script of a page imports modules that import more: fetched level by level,
// that is one round trip per level before the page's code can run. The page's <head>
// lists them all as modulepreload hints instead, so they download at once with the page.
const STATIC_IMPORT = /^\s*(?:import|export)\s(?:[^"';]*?\sfrom\s)?\s*["'](\.{1,2}\/[^"']+)["']/gm;

function moduleGraph(file, seen = new Set()) {
  if (seen.has(file)) return seen;
  seen.add(file);
  for (const [, spec] of fs.readFileSync(file, "utf8").matchAll(STATIC_IMPORT)) {
    moduleGraph(path.resolve(path.dirname(file), spec), seen);
  }
  return seen;
}

function addModulePreloads() {
  for (const page of HTML) {
    const file = path.join(dist, page);
    const html = fs.readFileSync(file, "utf8");
    const scripts = [...html.matchAll(/<script type="module" src="([^"]+)"><\/script>/g)].map((m) => m[1]);
    const modules = new Set(scripts.flatMap((src) => [...moduleGraph(path.resolve(path.dirname(file), src))]));
    for (const src of scripts) modules.delete(path.resolve(path.dirname(file), src)); // fetched anyway
    const already = new Set([...html.matchAll(/<link rel="modulepreload" href="([^"]+)">/g)]
      .map((m) => path.resolve(path.dirname(file), m[1])));
    // Scripts only: a JSON module (settings.js imports schema.json) is no script, and a
    // modulepreload of it fails with a MIME type error in the console.
    const hints = [...modules].filter((m) => !already.has(m) && /\.m?js$/.test(m)).sort()
      .map((m) => `  <link rel="modulepreload" href="./${path.relative(path.dirname(file), m).split(path.sep).join("/")}">`);
    // After the page's own preload hints, or else before its first module script.
    const preloads = [...html.matchAll(/^ *<link rel="(?:module)?preload"[^>]*>\n/gm)].at(-1);
    const at = preloads ? preloads.index + preloads[0].length : html.indexOf('  <script type="module"');
    if (!hints.length || at < 0) continue;
    fs.writeFileSync(file, `${html.slice(0, at)}${hints.join("\n")}\n${html.slice(at)}`);
  }
}

// Every page gets the Content-Security-Policy as its first <meta>.
function addCsp() {
  for (const page of HTML) {
    const meta = `<meta http-equiv="Content-Security-Policy" content="${CSP}">`;
    const file = path.join(dist, page);
    const html = fs.readFileSync(file, "utf8");
    if (!html.includes('<meta charset="utf-8">')) throw new Error(`${page}: no <meta charset> to put the CSP after`);
    fs.writeFileSync(file, html.replace('<meta charset="utf-8">', `<meta charset="utf-8">\n  ${meta}`));
  }
}

const sha256 = (file) => createHash("sha256").update(fs.readFileSync(file)).digest("base64");

async function build() {
  const files = packageFiles();
  fs.rmSync(dist, { recursive: true, force: true });
  fs.mkdirSync(dist, { recursive: true });

  for (const page of PAGES) {
    if (fs.existsSync(path.join(root, page))) copy(path.join(root, page), path.join(dist, page));
  }
  copy(path.join(root, "app"), path.join(dist, "app"), (f) => !f.endsWith("sw.js"));
  copy(path.join(root, "public"), dist, (f) => !f.endsWith(".md"));
  // The benchmark page (bench/index.html): Python engines vs a plain JS port, same tab.
  copy(path.join(root, "bench"), path.join(dist, "bench"));

  for (const file of PYODIDE_FILES) {
    copy(path.join(nm, "pyodide", file), path.join(dist, "vendor", "pyodide", file));
  }
  const kept = await writePythonArchives({ root, dist, nm, files });
  copyUplot();

  bundleEditor();
  writeSchema();
  addModulePreloads();
  addCsp();

  // GitHub Pages would otherwise run Jekyll, which drops files and folders starting with "_".
  fs.writeFileSync(path.join(dist, ".nojekyll"), "");

  // The service worker precaches every file of this build and serves a file only if its
  // SHA-256 matches this manifest (so nothing planted in the cache is ever served); its
  // cache name carries a hash of the whole manifest, so a new deploy replaces the cache.
  const built = listFiles(dist).filter((f) => f !== ".nojekyll").sort();
  const manifest = Object.fromEntries(built.map((f) => [f.split(path.sep).join("/"), sha256(path.join(dist, f))]));
  const version = createHash("sha256").update(JSON.stringify(manifest)).digest("hex").slice(0, 12);
  const sw = fs.readFileSync(path.join(root, "app", "sw.js"), "utf8")
    .replace("__VERSION__", version)
    .replace("__MANIFEST__", JSON.stringify(manifest))
    .replace("__CSP__", JSON.stringify(CSP))
    .replace("__TYPES__", JSON.stringify(CONTENT_TYPES));
  fs.writeFileSync(path.join(dist, "sw.js"), sw);

  const bytes = built.reduce((n, f) => n + fs.statSync(path.join(dist, f)).size, 0);
  console.log(`built dist/: ${built.length} files, ${(bytes / 1e6).toFixed(1)} MB, version ${version}; `
    + `the pages start with ${kept.length} standard library modules`);
}

await build();
