// What the cross-engine tests do on the pages, on any engine's tab (engines.mjs): the same
// test hooks (data-testid) the Chromium tests use, read and clicked the same way everywhere.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { launchEngine, missing } from "./engines.mjs";

// The engines whose tests run: all of them, or those named in TINYGPT_ENGINES (a
// comma-separated list, e.g. "webkit" while working on a WebKit problem).
export function selected(engines) {
  const wanted = process.env.TINYGPT_ENGINES?.split(",").map((name) => name.trim());
  return wanted ? engines.filter((name) => wanted.includes(name)) : engines;
}

// describe(), once per engine, with that engine launched for the whole block (one browser
// per engine per file). Where an engine is not installed the block is skipped with the
// reason, except in CI (the CI variable, set by .ci/run and GitHub): there the missing
// browser is a failure.
export function forEachEngine(engines, body, { lang } = {}) {
  const chosen = selected(engines);
  if (chosen.length === 0) {
    // A file with no test at all never ends in Node 20: its top-level before() hooks run
    // (the server starts) but its after() hooks do not (the server never stops).
    test(`${engines.join(", ")}`, { skip: `not in TINYGPT_ENGINES (${process.env.TINYGPT_ENGINES})` }, () => {});
  }
  for (const name of chosen) {
    const why = missing(name);
    if (why && process.env.CI) {
      test(`${name}: installed`, () => assert.fail(`${name} is missing in CI: ${why}`));
      continue;
    }
    describe(name, { skip: why ? `${name} is not installed here: ${why}` : false }, () => {
      const engine = { name, launched: null };
      engine.ready = async () => {
        engine.launched ??= await launchEngine(name, { lang });
        return engine.launched;
      };
      body(engine);
      after(() => engine.launched?.close());
    });
  }
}

// body(tab) in a new tab of the engine (a fresh profile), closed afterwards whatever happens.
export async function withTab(engine, body) {
  const tab = await (await engine.ready()).openTab();
  try {
    return await body(tab);
  } finally {
    await tab.close();
  }
}

export const state = (tab) => tab.evaluate(() => document.querySelector("[data-testid=status]").dataset.state);

export function waitState(tab, wanted, timeout = 120_000) {
  return tab.waitFor(
    (states) => states.includes(document.querySelector("[data-testid=status]")?.dataset.state),
    [].concat(wanted),
    { timeout, what: `the page's state ${wanted}` },
  );
}

export async function openPlayground(tab, site, query = "") {
  await tab.goto(site + query);
  await waitState(tab, "ready");
}

// The page's Python bridge, called directly (to read what the UI summarises).
export async function pyCall(tab, name, args = {}) {
  const answer = await tab.evaluate(
    (name, args) => JSON.parse(window.tinygptCall(name, JSON.stringify(args))),
    name,
    args,
  );
  assert.ok("ok" in answer, JSON.stringify(answer));
  return answer.ok;
}

export const stepsDone = (tab) =>
  tab.evaluate(() => Number(document.querySelector("[data-testid=step-count]").textContent));

// The error box's text when it shows, "" when it is hidden.
export const errorText = (tab) =>
  tab.evaluate(() => {
    const box = document.querySelector("[data-testid=error]");
    return box && !box.hidden && box.offsetParent !== null ? box.textContent.trim() : "";
  });

// Generate, then the names once Python has made them (a letter at a time, in short tasks).
export async function generateNames(tab) {
  await tab.click("[data-testid=generate]");
  await tab.waitFor(() => document.querySelector("[data-testid=samples]").dataset.state === "done", null, {
    what: "the generated names",
  });
  return tab.evaluate(() => [...document.querySelectorAll("[data-testid=sample]")].map((el) => el.textContent));
}

// A names or model link, made by its Share button.
export async function makeLink(tab, kind) {
  await tab.evaluate(() => (document.querySelector("[data-testid=share-link]").value = ""));
  await tab.click(`[data-testid=share-${kind}]`);
  return tab.waitFor(
    (mark) => {
      const value = document.querySelector("[data-testid=share-link]").value;
      return value.includes(mark) && value;
    },
    kind === "names" ? "#names=" : "#model=",
    { what: `a ${kind} link` },
  );
}

// After a test that should have gone smoothly: no error in sight, nothing asked of
// another origin, no uncaught error, no CSP violation (where the engine reports them).
export async function assertClean(tab, what) {
  assert.equal(await errorText(tab), "", `${what}: the page shows an error`);
  await tab.collect();
  assert.deepEqual([...tab.foreign], [], `${what}: requests to other origins`);
  assert.deepEqual(tab.errors, [], `${what}: uncaught errors in the page`);
  assert.deepEqual([...tab.csp], [], `${what}: Content-Security-Policy violations`);
}
