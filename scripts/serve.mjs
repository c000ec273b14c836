// `npm start`: serves dist/ under a sub-path, the way GitHub Pages serves a project site,
// so relative-URL mistakes show up locally. Usage: node scripts/serve.mjs [--port 8000] [--base /tinygpt/]
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

// TINYGPT_DIST serves another build folder (as scripts/build.mjs writes it).
const root = path.resolve(process.env.TINYGPT_DIST || path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "dist"));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const port = Number(option("--port", process.env.PORT || 8000));
const base = `/${option("--base", "/tinygpt/").replace(/^\/+|\/+$/g, "")}/`.replace("//", "/");

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript",
  ".css": "text/css", ".json": "application/json", ".wasm": "application/wasm",
  ".zip": "application/zip", ".py": "text/plain; charset=utf-8", ".txt": "text/plain; charset=utf-8",
  ".toml": "text/plain; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png",
  ".webmanifest": "application/manifest+json",
};

const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://localhost");
  if (url.pathname === "/" || url.pathname === base.slice(0, -1)) {
    res.writeHead(302, { Location: base });
    return res.end();
  }
  if (!url.pathname.startsWith(base)) {
    res.writeHead(404);
    return res.end("not found");
  }
  let file = path.join(root, decodeURIComponent(url.pathname.slice(base.length)));
  if (!file.startsWith(root)) {
    res.writeHead(403);
    return res.end();
  }
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, "index.html");
  fs.readFile(file, (err, body) => {
    if (err) {
      res.writeHead(404);
      return res.end("not found");
    }
    res.writeHead(200, { "Content-Type": TYPES[path.extname(file)] || "application/octet-stream" });
    res.end(body);
  });
});

server.listen(port, () => {
  console.log(`TinyGPT is served at http://localhost:${port}${base}  (Ctrl+C to stop)`);
});
