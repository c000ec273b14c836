// The one static server: `npm start`, the browser tests and the benchmarks all serve the
// built site with it, under a sub-path as GitHub Pages serves a project site (so
// relative-URL mistakes show up locally), with the site's Content-Security-Policy.
//
//   node scripts/serve.mjs [--port 8000] [--base /tinygpt/] [--root dist] [--host 127.0.0.1]
//                          [--no-headers]
//
// --no-headers sends no Content-Security-Policy (nor any header but the type), as GitHub
// Pages does: the pages' <meta> policy and the service worker are then all there is.
//
// It prints "TinyGPT is served at URL" once listening (--port 0 picks a free port; the
// tests read the URL from that line). It listens on this machine only unless --host says
// otherwise, and serves nothing outside the root folder.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CONTENT_TYPES } from "./content-types.mjs";
import { CSP } from "./csp.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
// TINYGPT_DIST serves another build folder (as scripts/build.mjs writes it).
const root = path.resolve(option("--root", process.env.TINYGPT_DIST || path.join(here, "..", "dist")));
const port = Number(option("--port", process.env.PORT || 8000));
const host = option("--host", "127.0.0.1");
const base = `/${option("--base", "/tinygpt/").replace(/^\/+|\/+$/g, "")}/`.replace("//", "/");
const sendHeaders = !args.includes("--no-headers");


function send(res, status, body = "", headers = {}) {
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", ...headers });
  res.end(body);
}

// The file a request asks for, or null when it is outside the root.
function resolve(pathname) {
  const relative = decodeURIComponent(pathname.slice(base.length)); // may throw: caller answers 400
  const file = path.resolve(root, `.${path.posix.sep}${relative}`);
  return file === root || file.startsWith(root + path.sep) ? file : null;
}

const server = http.createServer((req, res) => {
  let url;
  try {
    url = new URL(req.url, "http://localhost");
  } catch {
    return send(res, 400, "bad request");
  }
  if (base !== "/" && (url.pathname === "/" || url.pathname === base.slice(0, -1))) return send(res, 302, "", { Location: base });
  if (!url.pathname.startsWith(base)) return send(res, 404, "not found");
  let file;
  try {
    file = resolve(url.pathname);
  } catch {
    return send(res, 400, "bad request: malformed percent-encoding");
  }
  if (!file) return send(res, 403, "forbidden");
  fs.stat(file, (error, stat) => {
    if (!error && stat.isDirectory()) file = path.join(file, "index.html");
    fs.readFile(file, (err, body) => {
      if (err) return send(res, 404, "not found");
      const headers = { "Content-Type": CONTENT_TYPES[path.extname(file)] || "application/octet-stream" };
      // Pages carry their policy in a <meta> tag (the build's); everything else, such as
      // a worker's script, gets it as a header.
      if (sendHeaders) {
        headers["Cache-Control"] = "no-cache";
        if (path.extname(file) !== ".html") headers["Content-Security-Policy"] = CSP;
      }
      res.writeHead(200, headers);
      res.end(body);
    });
  });
});

server.listen(port, host, () => {
  const shown = host === "127.0.0.1" || host === "::1" ? "localhost" : host;
  console.log(`TinyGPT is served at http://${shown === "localhost" ? "127.0.0.1" : shown}:${server.address().port}${base}  (Ctrl+C to stop)`);
});
