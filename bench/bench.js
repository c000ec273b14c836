// The benchmark page: the same training run in three engines, timed in this tab.
//
// It loads Pyodide directly (no PyScript: nothing else runs on the page), mounts the
// tinygpt package, builds the default run on the first names, and hands the initial
// parameters and the document order to the JavaScript port (microgpt.js), so all
// three engines compute the same losses. They then take turns in rounds (a block of
// JS steps, a block of fast steps, a scalar step or two), so that a busy machine slows
// them alike. The fast engine also trains with 4 and 8 documents per step (batch) on
// as many documents as at batch 1, for documents per second side by side. Results go
// to the tables and to `window.benchResult` (for scripts/bench_browser.py and the tests).
import { fetchText, installTinygpt, mountRestOfStdlib } from "../app/python-package.js";
import { createRun } from "./microgpt.js";

window.dispatchEvent(new CustomEvent("tinygpt:module-ran", { detail: import.meta.url })); // app/watchdog.js

// A run is 1000 steps (the default schedule); the Python trainer stops there.
const LIMITS = { js: [1, 1000], fast: [1, 1000], scalar: [1, 200] };
const DEFAULTS = { js: 200, fast: 200, scalar: 20 };
const ROUNDS = 10;
// Besides batch 1, the fast engine's own run: 4 and 8 documents per step, with steps cut
// into chunks as the page cuts them (tinygpt.work.chunk_ranges), and 8 again computed
// whole and cut into chunks of one name, which say what cutting a batch costs.
const BATCHES = [
  { key: "4", batch: 4, pieces: "page" },
  { key: "8", batch: 8, pieces: "page" },
  { key: "8 whole", batch: 8, pieces: "whole" },
  { key: "8 per name", batch: 8, pieces: "names" },
];
const DATASET = "../data/first_names.txt";

const $ = (id) => document.getElementById(id);

function setStatus(state, text) {
  $("bench-status").dataset.state = state;
  $("bench-status").textContent = text;
}

// Step counts from the URL (?js=&fast=&scalar=), each checked with its reason shown.
function readCounts() {
  const query = new URLSearchParams(location.search);
  const counts = {};
  let ok = true;
  for (const [name, [low, high]] of Object.entries(LIMITS)) {
    const raw = query.get(name);
    const input = $(`${name}-steps`);
    const value = raw === null ? DEFAULTS[name] : Number(raw);
    input.value = raw === null ? String(value) : raw;
    const bad = !Number.isInteger(value) || value < low || value > high;
    $(`${name}-steps-error`).textContent = bad ? `A whole number from ${low} to ${high}.` : "";
    input.setAttribute("aria-invalid", bad ? "true" : "false");
    ok &&= !bad;
    counts[name] = value;
  }
  return ok ? counts : null;
}

async function startPython() {
  const { loadPyodide } = await import("../vendor/pyodide/pyodide.mjs");
  const pyodide = await loadPyodide({ indexURL: new URL("../vendor/pyodide/", location.href).href });
  await installTinygpt(pyodide, new URL("../", location.href)); // with bench.py (the lessons archive)
  await mountRestOfStdlib(pyodide, new URL("../", location.href)); // statistics, the profilers
  return pyodide;
}

const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));

// Runs `count` steps of `step`, adding each one's milliseconds and loss to the lists.
async function timeSteps(step, count, times, losses) {
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    const loss = step();
    times.push(performance.now() - start);
    losses.push(loss);
  }
  await nextTask(); // let the page draw between blocks
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

// Steps per second is steps over time, so it comes from the mean: the JS port's
// garbage collections fall into a few steps, which the median would leave out.
function summary(times, losses) {
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  return { steps: times.length, median_ms: median(times), mean_ms: mean, steps_per_s: 1000 / mean, losses };
}

// Documents per second of the fast engine at each batch size, from the mean step time,
// and its ratio to batch 1: the median over the rounds of the two sizes' documents per
// second in the same round (a burst of load elsewhere then spoils a round, not the ratio).
function batchSummary(times, losses, batch, rates, baseRates, key = String(batch)) {
  const s = summary(times, losses);
  const docsPerS = batch * s.steps_per_s;
  const paired = rates.map((r, i) => r / baseRates[i]).filter(Number.isFinite);
  return { ...s, key, batch, docs: s.steps * batch, docs_per_s: docsPerS, round_rates: rates,
    vs_batch_1: paired.length ? median(paired) : null };
}

// Documents per second of the steps timed since `from` (NaN if none).
function blockRate(times, from, batch) {
  const block = times.slice(from);
  return block.length ? (batch * block.length * 1000) / block.reduce((a, b) => a + b, 0) : NaN;
}

function showBatchTable(batches) {
  const rows = $("batch-rows");
  rows.replaceChildren();
  for (const r of Object.values(batches)) {
    const tr = document.createElement("tr");
    tr.dataset.batch = r.key;
    const cells = [r.key, r.steps, r.median_ms.toFixed(2), r.mean_ms.toFixed(2),
      r.docs_per_s.toFixed(1), `${(r.vs_batch_1 ?? r.docs_per_s / batches[1].docs_per_s).toFixed(2)}×`];
    for (const text of cells) {
      const td = document.createElement("td");
      td.textContent = String(text);
      tr.append(td);
    }
    rows.append(tr);
  }
}

function showTable(engines) {
  const rows = $("bench-rows");
  rows.replaceChildren();
  const labels = { js: "JavaScript port (scalar Value)", fast: "Python fast", scalar: "Python scalar" };
  for (const [name, r] of Object.entries(engines)) {
    const tr = document.createElement("tr");
    tr.dataset.engine = name;
    const cells = [labels[name], r.steps, r.median_ms.toFixed(2), r.mean_ms.toFixed(2),
      r.steps_per_s.toFixed(1), `${(r.steps_per_s / engines.js.steps_per_s).toFixed(2)}×`];
    for (const text of cells) {
      const td = document.createElement("td");
      td.textContent = String(text);
      tr.append(td);
    }
    rows.append(tr);
  }
}

async function run(counts) {
  const started = performance.now();
  const pyodide = await startPython();
  const text = await fetchText(DATASET);
  const newRun = pyodide.pyimport("tinygpt.bench").new_run;
  const fast = newRun(text, "fast");
  const scalar = newRun(text, "scalar");
  const init = JSON.parse(pyodide.pyimport("tinygpt.bench").export_run(fast));
  const js = createRun(init);
  const jsStep = () => js.step();
  const fastStep = fast.step;
  const scalarStep = scalar.step;
  const batched = BATCHES.map(({ batch, pieces }) => newRun(text, "fast", batch, pieces));
  const batchSteps = batched.map((t) => t.step);
  const batchCounts = BATCHES.map(({ batch }) => Math.max(1, Math.round(counts.fast / batch)));

  const times = { js: [], fast: [], scalar: [] };
  const losses = { js: [], fast: [], scalar: [] };
  const batchTimes = BATCHES.map(() => []);
  const batchLosses = BATCHES.map(() => []);
  const share = (total, round) => Math.floor((total * (round + 1)) / ROUNDS) - Math.floor((total * round) / ROUNDS);
  const rates = [[], ...BATCHES.map(() => [])]; // per round: batch 1, then BATCHES
  for (let round = 0; round < ROUNDS; round++) {
    setStatus("running", `Timing, round ${round + 1} of ${ROUNDS}…`);
    const marks = [times.fast.length, ...batchTimes.map((t) => t.length)];
    await timeSteps(jsStep, share(counts.js, round), times.js, losses.js);
    await timeSteps(fastStep, share(counts.fast, round), times.fast, losses.fast);
    await timeSteps(scalarStep, share(counts.scalar, round), times.scalar, losses.scalar);
    for (const [i, step] of batchSteps.entries()) {
      await timeSteps(step, share(batchCounts[i], round), batchTimes[i], batchLosses[i]);
    }
    rates[0].push(blockRate(times.fast, marks[0], 1));
    BATCHES.forEach(({ batch }, i) => rates[i + 1].push(blockRate(batchTimes[i], marks[i + 1], batch)));
  }

  // The engines start from the same parameters and see the same documents, so their
  // losses must agree step by step: this is what makes the comparison fair.
  const compared = Math.min(losses.js.length, losses.fast.length, losses.scalar.length);
  const maxDiff = (a, b) => Math.max(...a.slice(0, compared).map((x, i) => Math.abs(x - b[i])));
  const engines = Object.fromEntries(Object.keys(times).map((k) => [k, summary(times[k], losses[k])]));
  const batches = { 1: batchSummary(times.fast, losses.fast, 1, rates[0], rates[0]) };
  BATCHES.forEach(({ key, batch }, i) => {
    batches[key] = batchSummary(batchTimes[i], batchLosses[i], batch, rates[i + 1], rates[0], key);
  });
  const result = {
    engines,
    batches,
    ratios: { // of steps per second
      fast_over_js: engines.fast.steps_per_s / engines.js.steps_per_s,
      fast_over_scalar: engines.fast.steps_per_s / engines.scalar.steps_per_s,
      js_over_scalar: engines.js.steps_per_s / engines.scalar.steps_per_s,
    },
    check: {
      compared_steps: compared,
      js_vs_scalar: maxDiff(losses.js, losses.scalar),
      fast_vs_scalar: maxDiff(losses.fast, losses.scalar),
    },
    python: pyodide.pyimport("platform").python_version(),
    user_agent: navigator.userAgent,
    seconds: (performance.now() - started) / 1000,
  };
  if (new URLSearchParams(location.search).has("profile")) {
    setStatus("running", "Profiling the fast engine…");
    await nextTask();
    result.profile = pyodide.pyimport("tinygpt.bench").profile_steps(fast, Math.min(counts.fast, 200));
    result.profile_batch = pyodide.pyimport("tinygpt.bench").profile_steps(batched[0], Math.min(batchCounts[0], 50));
    $("bench-profile").textContent = `${result.profile}\n\nbatch ${BATCHES[0].key}:\n${result.profile_batch}`;
    $("bench-profile").hidden = false;
  }
  for (const proxy of [newRun, fast, scalar, fastStep, scalarStep, ...batched, ...batchSteps]) {
    proxy.destroy?.();
  }
  showTable(engines);
  showBatchTable(batches);
  $("bench-check").textContent =
    `Same losses: the JavaScript port and the fast engine differ from the scalar engine by at most ` +
    `${result.check.js_vs_scalar.toExponential(1)} and ${result.check.fast_vs_scalar.toExponential(1)} ` +
    `over the first ${compared} steps.`;
  window.benchResult = result;
  setStatus("done", `Done in ${result.seconds.toFixed(0)} s: the fast engine makes ` +
    `${result.ratios.fast_over_js.toFixed(2)}× the JavaScript port's steps per second; with ` +
    `${BATCHES[0].batch} documents per step, ${(batches[BATCHES[0].key].vs_batch_1 ?? NaN).toFixed(2)}× ` +
    `its documents per second.`);
}

$("settings").addEventListener("submit", (event) => {
  event.preventDefault();
  const query = new URLSearchParams(location.search);
  for (const name of Object.keys(LIMITS)) query.set(name, $(`${name}-steps`).value.trim());
  location.search = query.toString();
});

const counts = readCounts();
if (!counts) {
  setStatus("error", "Fix the step counts above, then run again.");
} else {
  run(counts).catch((error) => {
    setStatus("error", "The benchmark stopped.");
    $("error").textContent = `The benchmark failed: ${error.message}`;
    window.benchResult = { error: String(error.message || error) };
  });
}
