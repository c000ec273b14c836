// A page whose code fails to load says so, in Firefox and WebKit as in Chromium
// (tests/e2e/test_boot.py: the same cases and more): never "Starting Python…" forever.
// Each case serves a copy of the built site with one file broken on purpose:
//   - a module that throws as it is imported, as uPlot did under a locale Intl rejects
//     (the page's own module graph never runs, so a watchdog inside it cannot help);
//   - a module that is missing (its request answered 404).
// The page must show its error box, visible, saying what to do (reload). (Python failing
// to start inside a page whose code did load is the start-up watchdog's own case: with
// Pyodide's WebAssembly missing it speaks after its minute, in all three engines.)
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { forEachEngine, withTab } from "./page.mjs";
import { brokenCopy, serve } from "./site.mjs";

const CASES = [
  {
    name: "a module that throws on import",
    changes: {
      "vendor/uplot/uPlot.esm.js":
        'throw new RangeError("Incorrect locale information provided (broken on purpose by a test)");\n' +
        "export default null;\n",
    },
  },
  { name: "a missing module", changes: { "app/chart.js": null } },
];

const sites = {}; // one broken copy and its server per case, shared by the engines
async function brokenSite(index) {
  sites[index] ??= (async () => {
    const copy = brokenCopy(CASES[index].changes);
    const server = await serve(copy.root);
    return { url: server.url, close: () => (server.close(), copy.remove()) };
  })();
  return sites[index];
}
after(async () => {
  for (const site of Object.values(sites)) (await site).close();
});

// The error box once it shows (and what the page's status says), or a timeout.
const SHOWN_ERROR = () => {
  const box = document.querySelector("[data-testid=error]");
  const text = box && !box.hidden && box.offsetParent !== null ? box.textContent.trim() : "";
  return text && { text, state: document.querySelector("[data-testid=status]")?.dataset.state };
};

forEachEngine(["firefox", "webkit"], (engine) => {
  CASES.forEach(({ name }, index) => {
    test(`${name}: the page says it could not start, and what to do`, { timeout: 300_000 }, async () => {
      const site = await brokenSite(index);
      await withTab(engine, async (tab) => {
        const started = Date.now();
        await tab.goto(site.url);
        // Within the start-up watchdog's minute and a half (a page that never says
        // anything fails here).
        const shown = await tab.waitFor(SHOWN_ERROR, null, { timeout: 90_000, what: "an error message" });
        console.log(`${engine.name}, ${name}: after ${((Date.now() - started) / 1000).toFixed(1)} s: ${shown.text}`);
        assert.match(shown.text, /reload/i, "the message says what to do");
        assert.notEqual(shown.state, "ready");
        await tab.collect();
        assert.deepEqual([...tab.foreign], [], "requests to other origins");
      });
    });
  });
});
