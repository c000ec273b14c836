// Starts a module Web Worker so that it runs under this page's Content-Security-Policy.
//
// A worker started from its script's URL gets its policy from that script's response
// headers, and GitHub Pages sends none (nor does anything on a first visit, before the
// service worker adds them): such a worker could fetch from any origin. A worker started
// from a blob: URL inherits the policy of the page that made it, so the worker here is a
// two-line blob: module that imports the real one (same origin, allowed by the policy).
//
// settings: data for the worker, as `self.workerSettings` (set before its module runs).
// If the real module cannot be loaded, the error is thrown in the worker, so the
// worker's `error` event reports it as it would for a worker started directly.
export function startWorker(url, { name, settings = {} } = {}) {
  const source = [
    `self.workerSettings = ${JSON.stringify(settings)};`,
    `import(${JSON.stringify(new URL(url, import.meta.url).href)})`,
    "  .catch((error) => setTimeout(() => { throw error; }));",
  ].join("\n");
  const blobUrl = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  try {
    return new Worker(blobUrl, { type: "module", name });
  } finally {
    // The worker has fetched it once it starts; the URL need not outlive this call.
    setTimeout(() => URL.revokeObjectURL(blobUrl), 60_000);
  }
}
