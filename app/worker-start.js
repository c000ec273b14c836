// Starts a module Web Worker so that it runs under this page's Content-Security-Policy.
//
// A worker started from its script's URL gets its policy from that script's response
// headers, and GitHub Pages sends none (nor does anything on a first visit, before the
// service worker adds them): such a worker could fetch from any origin. A worker started
// from a blob: URL inherits the policy of the page that made it, so the worker here is a
// small blob: module that imports the real one (same origin, allowed by the policy).
//
// Messages the page sends before the real module has loaded wait for it (a worker
// started directly would queue them the same way). If the real module cannot be loaded,
// the error is thrown in the worker, so the worker's `error` event reports it.
const WRAPPER = (url) => `
const early = [];
const keep = (event) => early.push(event);
self.addEventListener("message", keep);
import(${JSON.stringify(url)}).then(() => {
  self.removeEventListener("message", keep);
  for (const { data, ports } of early) self.dispatchEvent(new MessageEvent("message", { data, ports }));
}, (error) => setTimeout(() => { throw error; }));
`;

export function startWorker(url, { name } = {}) {
  const source = WRAPPER(new URL(url, import.meta.url).href);
  const blobUrl = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  const worker = new Worker(blobUrl, { type: "module", name });
  URL.revokeObjectURL(blobUrl); // the worker has taken what it needs of it
  return worker;
}
