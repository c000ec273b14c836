// Starts the playground's Python as soon as the page loads, beside (not after) the rest
// of the page's code: Pyodide, the package, then `tinygpt.web.install()`, which
// registers window.tinygptCall and says "tinygpt:ready" (bridge.js waits for it).
// Each stage is announced as a "tinygpt:progress" event (boot.js shows it); a failure is
// kept in window.tinygptStartFailure and announced as "tinygpt:failed", so the page's
// watchdog (boot.js) reports it even if it starts listening later.
import { servedFromCache } from "./offline.js";
import { startPython } from "./python-package.js";

window.dispatchEvent(new CustomEvent("tinygpt:module-ran", { detail: import.meta.url })); // app/watchdog.js
const say = (type, detail) => window.dispatchEvent(new CustomEvent(type, { detail }));

async function start() {
  const pyodide = await startPython(new URL("../", import.meta.url), {
    compiled: servedFromCache(),
    onStage: (stage) => say("tinygpt:progress", stage),
  });
  say("tinygpt:progress", "Importing tinygpt");
  pyodide.pyimport("tinygpt.web").install();
}

start().catch((error) => {
  window.tinygptStartFailure = String(error?.message || error).slice(0, 300);
  say("tinygpt:failed", window.tinygptStartFailure);
});
