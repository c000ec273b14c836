// The site's Content-Security-Policy, in one place: the build writes it into every page
// (a <meta> tag, which is all GitHub Pages allows) and into the service worker, which
// sends it as a header with every other file it serves; `npm start` and the tests' server
// send it the same way (unless told to send no headers, as GitHub Pages does).
//
// Everything comes from the site's own origin: scripts ('wasm-unsafe-eval' lets Pyodide
// compile its WebAssembly), workers, fetches (the datasets, Pyodide's files). Styles may
// be set inline (uPlot and the figures size their elements); images may be data: and
// blob: URLs (the name card's PNG). No plugins, no forms posting anywhere, no <base>.
// No 'unsafe-eval': nothing on the site builds code from strings (PyScript did; the
// pages now start Pyodide themselves).
//
// Workers are started from blob: URLs (app/worker-start.js): a blob: worker inherits
// the policy of the page that made it, so a worker runs under this policy even where no
// header reaches its script (GitHub Pages, a first visit before the service worker).
// The web app manifest falls under default-src (WebKit does not know `manifest-src`).
export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "img-src 'self' data: blob:",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join("; ");
