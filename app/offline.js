// Registers the service worker (app/sw.js, built to dist/sw.js) that caches the whole
// site, Pyodide included, so later visits load offline. Both pages call it, so a first
// visit to either is enough (both sit at the site's root, next to sw.js).
//
// On a first visit it waits until Python runs ("tinygpt:ready", or half a minute): its
// install downloads and checks every file of the site, which would otherwise compete
// with the page's own start for the network and the processor.
const WAIT_MS = 30_000;

export function registerServiceWorker() {
  if (!("serviceWorker" in navigator) || !location.protocol.startsWith("http")) return;
  const register = () => navigator.serviceWorker.register("./sw.js").catch(() => {});
  if (servedFromCache()) {
    register(); // installed already: this only looks for a newer build
    return;
  }
  let timer = 0;
  const once = () => {
    clearTimeout(timer);
    window.removeEventListener("tinygpt:ready", once);
    register();
  };
  if (window.tinygptCall) return once(); // the playground's Python is up already
  window.addEventListener("tinygpt:ready", once);
  timer = setTimeout(once, WAIT_MS);
}

// Whether the service worker serves this page, so the whole site is in its cache.
export const servedFromCache = () => Boolean(globalThis.navigator?.serviceWorker?.controller);
