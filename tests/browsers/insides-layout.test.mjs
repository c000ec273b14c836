// "Inside the model" must not move the page when its views come into view: a click aimed
// before such a jump lands on whatever moved under the pointer. (With the views'
// `content-visibility: auto`, a view drawn while out of sight kept a placeholder height
// until it was scrolled to, then took its real one: the Generate button below moved 47 px
// in Firefox, and a view grew by 266 px on a phone in Chromium.) In Firefox and WebKit
// (Chromium: tests/e2e/test_insides_page.py), on a wide screen and on a phone: after a run
// has filled the views, scrolling each of them into view leaves every view's height and
// the position of what follows unchanged.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { assertClean, forEachEngine, openPlayground, waitState } from "./page.mjs";
import { serve } from "./site.mjs";

const SCREENS = [
  { name: "wide", width: 1200, height: 900 },
  { name: "phone", width: 375, height: 740 },
];
const STEPS = 30;

let site;
before(async () => (site = await serve()));
after(() => site?.close());

// Every view's height and the document position of the Generate button (below them).
const LAYOUT = () => {
  const top = (el) => Math.round(el.getBoundingClientRect().top + window.scrollY);
  return {
    views: [...document.querySelectorAll(".insides-view")].map((v) => Math.round(v.getBoundingClientRect().height)),
    generate: top(document.querySelector("[data-testid=generate]")),
  };
};
const TWO_FRAMES = () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));

forEachEngine(["firefox", "webkit"], (engine) => {
  for (const screen of SCREENS) {
    test(`${screen.name}: the views keep their place when scrolled into view`, { timeout: 300_000 }, async () => {
      const tab = await (await engine.ready()).openTab(screen);
      try {
        // MiniBrowser's toolbar keeps its window at least 447 px wide: still the one-column
        // layout of a phone (two columns start at 62rem).
        const width = await tab.evaluate(() => window.innerWidth);
        assert.ok(width >= screen.width - 20 && width <= Math.max(screen.width + 20, 480), `the window is ${width} px wide`);
        if (width !== screen.width) console.log(`${engine.name}: the ${screen.name} screen is ${width} px wide`);
        await openPlayground(tab, site.url, `?steps=${STEPS}`);
        if ((await tab.evaluate(() => document.querySelector("[data-testid=insides-toggle]").ariaExpanded)) !== "true") {
          await tab.click("[data-testid=insides-toggle]");
        }
        await tab.evaluate(() => window.scrollTo(0, 0));
        await tab.click("[data-testid=train-toggle]");
        await waitState(tab, "done");
        // The panel has drawn the finished run (its last update carries the step).
        await tab.waitFor((steps) => document.querySelector("[data-testid=insides]").dataset.step === String(steps), STEPS, {
          what: "the panel showing the finished run",
        });
        await tab.evaluate(() => window.scrollTo(0, 0));
        await tab.evaluate(TWO_FRAMES);
        const before = await tab.evaluate(LAYOUT);
        const count = before.views.length;
        assert.equal(count, 3);
        for (let i = 0; i < count; i += 1) {
          await tab.evaluate((i) => document.querySelectorAll(".insides-view")[i].scrollIntoView({ block: "center" }), i);
          await tab.evaluate(TWO_FRAMES);
          await tab.evaluate(TWO_FRAMES);
          assert.deepEqual(await tab.evaluate(LAYOUT), before, `the layout moved when view ${i + 1} came into view`);
        }
        await assertClean(tab, `${screen.name} screen`);
      } finally {
        await tab.close();
      }
    });
  }
});
