// The site's Content-Security-Policy, in one place: the build writes it into every page
// (a <meta> tag, which is all GitHub Pages allows) and into the service worker, which
// sends it as a header with every other file it serves (so the Web Workers, which a
// page's <meta> tag does not reach, run under it too); `npm start` and the tests' server
// send it the same way.
//
// Everything comes from the site's own origin: scripts ('wasm-unsafe-eval' lets Pyodide
// compile its WebAssembly), workers, fetches (the datasets, Pyodide's files). Styles may
// be set inline (uPlot and the figures size their elements); images may be data: and
// blob: URLs (the name card's PNG). No plugins, no forms posting anywhere, no <base>.
//
// The playground (index.html) alone also allows 'unsafe-eval': PyScript, which starts its
// Python, builds a few functions from strings (`Function(...)`) as it starts. That allows
// no new source of script: everything still comes from this origin, and nothing can be
// sent anywhere else (connect-src). The lessons, the benchmark and every worker run
// under the strict policy.
export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "img-src 'self' data: blob:",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self'",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join("; ");

export const PLAYGROUND_CSP = CSP.replace("script-src 'self' 'wasm-unsafe-eval'", "script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval'");

// The policy of a page of the site, by its path relative to the site's root.
export const pagePolicy = (page) => (page === "index.html" ? PLAYGROUND_CSP : CSP);
