// The core path in Firefox and WebKit, as the Chromium tests (tests/e2e) walk it: start to
// ready, train 100 steps to the terminal's losses (within 1e-9), a reload that brings the
// run back, names generated, a names link and a model link opened in fresh profiles, and
// the first cell of lesson 1. The tests of one engine share its browser and run in order:
// each goes on from where the one before left the page.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { assertClean, errorText, forEachEngine, generateNames, makeLink, pyCall, state, stepsDone, waitState, withTab } from "./page.mjs";
import { cpythonLosses, ROOT, serve } from "./site.mjs";

const STEPS = 100;
const SEED = 7;
const GEN_SEED = "5";
const RUN = `?steps=${STEPS}&seed=${SEED}&dataset=first_names`;
const LESSON_CELLS = JSON.parse(fs.readFileSync(path.join(ROOT, "tests", "py", "lesson_cells.json"), "utf8")).cells;

let site;
let expectedLosses;
before(async () => {
  site = await serve();
  expectedLosses = cpythonLosses({ steps: STEPS, seed: SEED }); // this run's, not a pinned number
});
after(() => site?.close());

forEachEngine(["firefox", "webkit"], (engine) => {
  let tab; // the playground of the first tests
  let trained; // what that run left: losses, names, links

  test("starts Python and gets ready", { timeout: 300_000 }, async () => {
    const browser = await engine.ready();
    tab = await browser.openTab();
    console.log(`${engine.name}: ${await browser.version()}`);
    const started = Date.now();
    await tab.goto(site.url + RUN);
    assert.equal(await state(tab), "loading");
    await waitState(tab, "ready", 240_000);
    console.log(`${engine.name}: ready ${((Date.now() - started) / 1000).toFixed(1)} s after navigation`);
    const enabled = await tab.evaluate(() => !document.querySelector("[data-testid=train-toggle]").disabled);
    assert.ok(enabled, "Train is enabled once Python is ready");
    assert.equal(await tab.evaluate(() => document.querySelector("[data-testid=dataset-select]").value), "first_names");
  });

  test(`trains ${STEPS} steps to the terminal's losses`, { timeout: 300_000 }, async () => {
    const started = Date.now();
    await tab.click("[data-testid=train-toggle]");
    await waitState(tab, "done", 240_000);
    const { losses } = await pyCall(tab, "info");
    const seconds = (Date.now() - started) / 1000;
    console.log(`${engine.name}: ${STEPS} steps in ${seconds.toFixed(1)} s, last loss ${losses.at(-1)}`);
    assert.equal(losses.length, STEPS);
    assert.equal(await stepsDone(tab), STEPS);
    const worst = Math.max(...losses.map((loss, i) => Math.abs(loss - expectedLosses[i])));
    assert.ok(worst < 1e-9, `losses differ from CPython's by up to ${worst}`);
    trained = { losses };
  });

  test("a reload brings the run back", { timeout: 300_000 }, async () => {
    // Saved when the run ended (the storage status names the step it saved).
    await tab.waitFor(
      (steps) => Number(document.querySelector("[data-testid=storage-status]").dataset.step) === steps,
      STEPS,
      { what: "the finished run saved" },
    );
    await tab.reload();
    await waitState(tab, "done", 240_000);
    assert.equal(await stepsDone(tab), STEPS);
    assert.deepEqual((await pyCall(tab, "info")).losses, trained.losses); // bit for bit
    const shownLoss = await tab.evaluate(() => document.querySelector("[data-testid=loss-value]").textContent);
    assert.match(shownLoss, /^\d+\.\d+$/, "the loss readout is back");
  });

  test("generates names from the model's letters", { timeout: 300_000 }, async () => {
    await tab.fill("#gen-seed", GEN_SEED); // a blank seed draws a new one each time
    const names = await generateNames(tab);
    const { chars } = await pyCall(tab, "info");
    assert.equal(names.length, 10);
    const letters = new Set([...chars, "(", ")", " "]); // "(empty)": how an empty name shows
    for (const name of names) assert.ok([...name].every((ch) => letters.has(ch)), `not made of the letters: ${name}`);
    trained.names = names;
    trained.namesLink = await makeLink(tab, "names");
    await tab.click("[data-testid=share-exact]");
    trained.modelLink = await makeLink(tab, "model");
    trained.weights = (await pyCall(tab, "model_file")).state_dict;
    await assertClean(tab, "the playground");
    await tab.close(); // WebKit's driver holds one session at a time
    tab = null;
  });

  test("a names link shows the same names in a fresh profile", { timeout: 300_000 }, async () => {
    await withTab(engine, async (fresh) => {
      await fresh.goto(trained.namesLink);
      await fresh.waitFor(() => !!document.querySelector("[data-testid=name-card]"), null, { what: "the name card" });
      const shown = await fresh.evaluate(() =>
        [...document.querySelectorAll("[data-testid=card-name]")].map((el) => el.textContent),
      );
      assert.deepEqual(shown, trained.names);
      const facts = await fresh.evaluate(() => document.querySelector("[data-testid=card-facts]").textContent);
      assert.ok(facts.includes("US first names") && facts.includes(String(STEPS)), facts);
      await assertClean(fresh, "the name card");
    });
  });

  test("a model link generates the same names in a fresh profile", { timeout: 300_000 }, async () => {
    await withTab(engine, async (fresh) => {
      await fresh.goto(trained.modelLink);
      await fresh.waitFor(
        () => document.querySelector("[data-testid=share-status]").textContent.includes("Opened"),
        null,
        { timeout: 240_000, what: "the model opened" },
      );
      assert.equal(await state(fresh), "done");
      const info = await pyCall(fresh, "info");
      assert.equal(info.trainable, false);
      assert.equal(info.meta.steps, STEPS);
      assert.deepEqual((await pyCall(fresh, "model_file")).state_dict, trained.weights); // exact weights
      // The link carries the sharer's seed and temperature: the same names.
      assert.equal(await fresh.evaluate(() => document.querySelector("#gen-seed").value), GEN_SEED);
      assert.deepEqual(await generateNames(fresh), trained.names);
      await assertClean(fresh, "the opened model");
    });
  });

  test("the first cell of lesson 1 runs", { timeout: 300_000 }, async () => {
    await withTab(engine, async (fresh) => {
      await fresh.goto(`${site.url}lessons.html#tokens`);
      await fresh.waitFor(
        () => document.querySelector("[data-testid=python-status]").dataset.state === "ready",
        null,
        { timeout: 240_000, what: "the lessons' Python" },
      );
      const cell = "[data-view=tokens] [data-testid=code-cell]";
      await fresh.click(`${cell} [data-testid=run]`);
      const [done, output] = await fresh.waitFor(
        (cell) => {
          const box = document.querySelector(cell);
          return ["done", "error", "stopped"].includes(box.dataset.state) && [
            box.dataset.state,
            box.querySelector("[data-testid=cell-output]").textContent,
          ];
        },
        cell,
        { timeout: 120_000, what: "the cell's output" },
      );
      const expected = LESSON_CELLS.find((c) => c.lesson === "tokens" && c.cell === 1).output;
      assert.equal(done, "done", output);
      assert.equal(output.trim(), expected.trim());
      assert.equal(await errorText(fresh), "");
      await assertClean(fresh, "lesson 1");
    });
  });

  after(() => tab?.close());
});
