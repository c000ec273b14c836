// Registers the service worker (app/sw.js, built to dist/sw.js) that caches the whole
// site, Pyodide included, so later visits load offline. Both pages call it, so a first
// visit to either is enough (both sit at the site's root, next to sw.js).
export function registerServiceWorker() {
  if ("serviceWorker" in navigator && location.protocol.startsWith("http")) {
    navigator.serviceWorker.register("./sw.js").catch(() => {});
  }
}
