// A browser language that Intl rejects must not stop the page. WebKitGTK started with
// LANG=C.UTF-8 reports navigator.language "C", which Intl's constructors refuse
// (RangeError); uPlot formats its axes with Intl, so the chart has to fall back to a
// language Intl knows. (Plain LANG=C gives "en-US": WebKitGTK 2.50 on Debian 12.) In a
// real WebKit under that locale: the page starts, trains and draws its chart.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { assertClean, forEachEngine, pyCall, waitState, withTab } from "./page.mjs";
import { serve } from "./site.mjs";

let site;
before(async () => (site = await serve()));
after(() => site?.close());

forEachEngine(
  ["webkit"],
  (engine) => {
    test("under LANG=C.UTF-8 (navigator.language \"C\") the page starts, trains and draws its chart", { timeout: 300_000 }, async () => {
      await withTab(engine, async (tab) => {
        await tab.goto(`${site.url}?steps=40`);
        const language = await tab.evaluate(() => navigator.language);
        const refused = await tab.evaluate(() => {
          try {
            new Intl.NumberFormat(navigator.language);
            return false;
          } catch (error) {
            return error instanceof RangeError;
          }
        });
        // The case this test is about; if WebKit ever reports another language, say so.
        assert.ok(refused, `navigator.language is ${JSON.stringify(language)}, which Intl accepts: no test`);
        await waitState(tab, "ready");
        await tab.click("[data-testid=train-toggle]");
        await waitState(tab, "done");
        assert.equal((await pyCall(tab, "info")).losses.length, 40);
        const chart = await tab.evaluate(() => {
          const canvas = document.querySelector("[data-testid=loss-chart] canvas");
          return canvas ? [canvas.width, canvas.height] : null;
        });
        assert.ok(chart && chart[0] > 0 && chart[1] > 0, `no chart drawn: ${chart}`);
        await assertClean(tab, "LANG=C.UTF-8");
      });
    });
  },
  { lang: "C.UTF-8" },
);
