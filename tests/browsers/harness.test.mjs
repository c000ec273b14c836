// The harness's own checks can fail: in every engine, a request to another origin, an
// uncaught error and a Content-Security-Policy violation planted in a page are recorded,
// and assertClean (which every happy-path test ends with) refuses the page.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { assertClean, forEachEngine, withTab } from "./page.mjs";
import { serve } from "./site.mjs";

let site;
let elsewhere; // the same files from another port: another origin
before(async () => {
  site = await serve();
  elsewhere = await serve();
});
after(() => {
  site?.close();
  elsewhere?.close();
});

forEachEngine(["chromium", "firefox", "webkit"], (engine) => {
  test("a foreign request, an uncaught error and a CSP violation are all caught", { timeout: 180_000 }, async () => {
    await withTab(engine, async (tab) => {
      // The server's "not found" answer is a page without a policy: it may fetch anywhere.
      await tab.goto(`${site.url}no-such-page`);
      const foreignUrl = `${elsewhere.url}icon.svg`;
      await tab.evaluate((url) => fetch(url, { mode: "no-cors" }).then(() => true), foreignUrl);
      await tab.collect();
      assert.ok(tab.foreign.has(foreignUrl), `not recorded: ${[...tab.foreign]}`);

      // The playground, under its policy: an image from elsewhere is refused and reported.
      await tab.goto(site.url);
      await tab.evaluate((url) => {
        new Image().src = url;
        setTimeout(() => {
          throw new Error("planted by the harness test");
        });
      }, foreignUrl);
      await tab.waitFor(() => window.__recorded?.csp.length > 0 && window.__recorded.errors.length > 0, null, {
        what: "the planted violation and error recorded",
      });
      await tab.collect();
      assert.ok([...tab.csp].some((v) => v.startsWith("img-src")), `no img-src violation: ${[...tab.csp]}`);
      // (Chromium mutes the message of an error thrown by a driver's script: "Script error.")
      assert.equal(tab.errors.length, 1, `not one error: ${tab.errors}`);
      // The first of its checks to fail: the error box (the page may report the planted
      // error, if it came while Python was starting) or the foreign request.
      await assert.rejects(assertClean(tab, "the planted page"), /shows an error|other origins/);
    });
  });
});
