// Service worker: after one visit the whole site (Pyodide included) is in the cache,
// so TinyGPT loads and trains with the network off. The build fills in the manifest
// (every file with its SHA-256), a version, the Content-Security-Policy and the content
// type of each kind of file.
//
// - Its cache belongs to this deployment: the name carries the registration's scope, and
//   only this deployment's old caches are deleted (two TinyGPTs under one GitHub Pages
//   user, /a/ and /b/, share an origin but not caches).
// - It serves a file only if its bytes hash to the manifest's value. Code running on
//   this origin (a lesson cell can `import js`) can write into the cache, but what it
//   plants is never served: a tampered entry is dropped and fetched again. A file it
//   has checked it keeps, and serves again from what it checked (`checked`, below).
// - Its headers come from the build, never from a cached copy: a planted entry with the
//   real bytes and a header of its own (`Refresh: 0; url=elsewhere`) would pass the
//   hash. A file is served with its content type (by extension) and, but for the pages
//   (which carry their policy in a <meta> tag), the Content-Security-Policy.
const VERSION = "__VERSION__";
const MANIFEST = __MANIFEST__;
const CSP = __CSP__;
const CONTENT_TYPES = __TYPES__;
const SCOPE = self.registration.scope; // e.g. https://user.github.io/tinygpt/
const PREFIX = `tinygpt ${SCOPE} `;
const CACHE = PREFIX + VERSION;

// The manifest's name for a URL of this deployment ("" -> index.html), or null.
function manifestPath(url) {
  if (!url.startsWith(SCOPE)) return null;
  let path;
  try {
    path = decodeURIComponent(new URL(url).pathname.slice(new URL(SCOPE).pathname.length));
  } catch {
    return null; // a malformed address: the network answers it
  }
  if (path === "" || path.endsWith("/")) path += "index.html";
  return Object.hasOwn(MANIFEST, path) ? path : null;
}

async function sha256(buffer) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", buffer));
  return btoa(String.fromCharCode(...digest));
}

// A response with the site's headers for the manifest's file `path`, and no others.
function siteResponse(body, path) {
  const extension = /\.[^./]*$/.exec(path)?.[0] ?? "";
  const headers = { "Content-Type": CONTENT_TYPES[extension] || "application/octet-stream" };
  if (!path.endsWith(".html")) headers["Content-Security-Policy"] = CSP;
  return new Response(body, { status: 200, statusText: "OK", headers });
}

// The file from the network, if it is the one the manifest names (a new deploy may
// already be on the server: then it is served but not cached, and the page's next load
// brings the new service worker).
async function fetchChecked(path, cache) {
  const response = await fetch(new Request(new URL(path, SCOPE), { cache: "reload" }));
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  const body = await response.arrayBuffer();
  const good = (await sha256(body)) === MANIFEST[path];
  const served = siteResponse(body, path);
  if (good && cache) await cache.put(new URL(path, SCOPE), served.clone());
  return { response: served, good, body };
}

function remember(path, body) {
  const blob = new Blob([body]);
  checked.set(path, blob);
  return siteResponse(blob, path);
}

self.addEventListener("install", (event) => {
  // `cache: "reload"` goes past the browser's HTTP cache: GitHub Pages lets browsers keep
  // files for 10 minutes, and a new version must not precache the old version's files.
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await Promise.all(Object.keys(MANIFEST).map(async (path) => {
      const { good } = await fetchChecked(path, cache);
      if (!good) throw new Error(`${path} does not match this build's manifest`);
    }));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith(PREFIX) && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// The files this worker has checked, as Blobs of their checked bytes: served again without
// reading the cache or hashing them (a page's start asks for 13 MB of them), and out of
// reach of whatever is written into the cache after the check. A new worker (a new build,
// or this one stopped and started again) checks afresh.
const checked = new Map();

async function serve(path) {
  if (checked.has(path)) return siteResponse(checked.get(path), path);
  const cache = await caches.open(CACHE); // this deployment's cache, and no other
  const key = new URL(path, SCOPE);
  const hit = await cache.match(key);
  if (hit) {
    const body = await hit.arrayBuffer();
    if ((await sha256(body)) === MANIFEST[path]) return remember(path, body);
    await cache.delete(key); // planted or damaged: never served
  }
  try {
    const { response, good, body } = await fetchChecked(path, cache);
    return good ? remember(path, body) : response;
  } catch {
    return new Response(`${path} is not available offline.`, { status: 503, headers: { "Content-Type": "text/plain" } });
  }
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET") return;
  // Pages are looked up without their query (?steps=...), which only the page reads.
  const url = request.mode === "navigate" ? request.url.split(/[?#]/)[0] : request.url.split("#")[0];
  const path = url.includes("?") ? null : manifestPath(url);
  if (path) event.respondWith(serve(path));
});
