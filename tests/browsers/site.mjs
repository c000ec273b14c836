// The site under test and what the tests compare it with: dist/ (or TINYGPT_DIST) served
// by scripts/serve.mjs under /tinygpt/ as the other browser tests serve it, copies of it
// with a module broken on purpose, and the terminal's (CPython's) losses for a run.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const DIST = path.resolve(process.env.TINYGPT_DIST || path.join(ROOT, "dist"));

export function builtSite() {
  if (!fs.existsSync(path.join(DIST, "index.html"))) {
    throw new Error(`no built site in ${DIST}: run \`node scripts/build.mjs\` first`);
  }
  return DIST;
}

// Serves `root`; resolves to { url, close } once the server says where it listens.
export function serve(root = builtSite()) {
  const server = spawn("node", [path.join(ROOT, "scripts", "serve.mjs"), "--port", "0", "--root", root], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    server.on("error", reject);
    server.stdout.once("data", (line) => {
      const url = String(line).split("served at ")[1]?.split(/\s/)[0];
      if (!url) return reject(new Error(`the server did not start: ${line}`));
      resolve({ url, close: () => server.kill() });
    });
  });
}

// A copy of the built site with `changes` ({ "relative/path": text, or null to delete })
// applied: a page whose code fails to load. (16 MB: a copy takes a fraction of a second.)
export function brokenCopy(changes) {
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), "tinygpt-broken-"));
  fs.cpSync(builtSite(), copy, { recursive: true });
  for (const [file, text] of Object.entries(changes)) {
    const target = path.join(copy, file);
    if (!fs.existsSync(target)) throw new Error(`${file} is not in the built site: the test is out of date`);
    if (text === null) fs.rmSync(target);
    else fs.writeFileSync(target, text);
  }
  return { root: copy, remove: () => fs.rmSync(copy, { recursive: true, force: true }) };
}

const PYTHON = [path.join(ROOT, ".venv", "bin", "python"), "python3"].find(
  (p) => p === "python3" || fs.existsSync(p),
);

// The losses of `python -m tinygpt train` (CPython) on one of the site's datasets: the page
// equals them within 1e-9 (Pyodide's libm rounds exp/log differently in the last bit).
export function cpythonLosses({ dataset = "first_names", steps, seed }) {
  const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tinygpt-cli-")), "steps.jsonl");
  execFileSync(
    PYTHON,
    ["-m", "tinygpt", "train", "--data", path.join(builtSite(), "data", `${dataset}.txt`), "--steps", String(steps),
      "--seed", String(seed), "--log", log],
    { cwd: ROOT, env: { ...process.env, PYTHONPATH: path.join(ROOT, "py") }, stdio: ["ignore", "ignore", "inherit"] },
  );
  const losses = fs.readFileSync(log, "utf8").trim().split("\n").map((line) => JSON.parse(line).loss);
  fs.rmSync(path.dirname(log), { recursive: true, force: true });
  return losses;
}
