// Service worker: after one visit the whole site (Pyodide included) is in the cache,
// so TinyGPT loads and trains with the network off. The build fills in the file list
// and a version; a new deploy gets a new cache and the old one is dropped.
const VERSION = "__VERSION__";
const PRECACHE = __PRECACHE__;
const CACHE = `tinygpt-${VERSION}`;

self.addEventListener("install", (event) => {
  // `cache: "reload"` goes past the browser's HTTP cache: GitHub Pages lets browsers keep
  // files for 10 minutes, and a new version must not precache the old version's files.
  const requests = PRECACHE.map((url) => new Request(url, { cache: "reload" }));
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(requests)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("tinygpt-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET" || new URL(request.url).origin !== location.origin) return;
  // Pages are looked up without their query (?steps=...), which only the page reads.
  const ignoreSearch = request.mode === "navigate";
  event.respondWith(
    caches.match(request, { ignoreSearch }).then((hit) => hit || fetch(request)),
  );
});
