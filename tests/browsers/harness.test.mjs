// The harness's own checks can fail: in every engine, a request to another origin, an
// uncaught error and a Content-Security-Policy violation planted in a page are recorded,
// and assertClean (which every happy-path test ends with) refuses the page.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { assertClean, forEachEngine, withTab } from "./page.mjs";
import { ROOT, serve } from "./site.mjs";

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

forEachEngine(["firefox", "webkit"], (engine) => {
  test("a foreign request, an uncaught error and a CSP violation are all caught", { timeout: 180_000 }, async () => {
    await withTab(engine, async (tab) => {
      // The server's "not found" answer is a page without a policy: it may fetch anywhere.
      await tab.goto(`${site.url}no-such-page`);
      const foreignUrl = `${elsewhere.url}icon.svg`;
      await tab.evaluate((url) => fetch(url, { mode: "no-cors" }).then(() => true), foreignUrl);
      // WebKit adds a fetch's Resource Timing entry (all the harness sees of a request
      // there) once the body has arrived, which may be after fetch() resolved: read
      // the page once the entry is there (read at once, this check failed once in WebKit).
      await tab.waitFor((url) => performance.getEntriesByName(url).length > 0, foreignUrl, {
        what: "the foreign request's Resource Timing entry",
      });
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
      assert.equal(tab.errors.length, 1, `not one error: ${tab.errors}`);
      // The first of its checks to fail: the error box (the page may report the planted
      // error, if it came while Python was starting) or the foreign request.
      await assert.rejects(assertClean(tab, "the planted page"), /shows an error|other origins/);
    });
  });
});

// TINYGPT_ENGINES may leave out every engine of a file: the file must still end, its tests
// skipped. (In Node 20 a file without a single test runs its before() hooks but not its
// after() hooks: the server it started kept it running for ever.)
test("a file whose engines TINYGPT_ENGINES all leaves out ends at once", { timeout: 120_000 }, async () => {
  const file = path.join(ROOT, "tests", "browsers", "locale.test.mjs");
  const env = { ...process.env, TINYGPT_ENGINES: "none" };
  delete env.NODE_TEST_CONTEXT; // set by the runner of this file: the child would report to it, not to stdout
  const { stdout } = await promisify(execFile)(process.execPath, ["--test", "--test-reporter=tap", file], {
    env,
    timeout: 60_000,
  });
  assert.match(stdout, /^# skipped 1$/m, stdout);
  assert.match(stdout, /^# fail 0$/m, stdout);
});
