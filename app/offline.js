// Registers the service worker (app/sw.js, built to dist/sw.js) that caches the whole
// site, Pyodide included, so later visits load offline. Both pages call it, so a first
// visit to either is enough. `base` is the site's root relative to the page.
export function registerServiceWorker(base = "./") {
  if ("serviceWorker" in navigator && location.protocol.startsWith("http")) {
    navigator.serviceWorker.register(`${base}sw.js`).catch(() => {});
  }
}
