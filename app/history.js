// Runs side by side: every run trained in this browser keeps a summary (its settings,
// its loss, names per second, time, and its loss curves, thinned to a few hundred
// points) in the history store. A small table lists them, labelled by what differs from
// the current settings ("lr 0.005", "batch 4"); ticked runs are drawn faintly on the
// chart; "Forget" removes one. autosave.js writes a run's summary with each save.
// Summaries are checked as they are read (records.js): one that fails is kept aside and
// reported once, and the table shows the others.
import { deleteHistory, listHistory, putHistory } from "./db.js";
import { $, el } from "./dom.js";
import { keepAsideBad } from "./saved-runs.js";
import { schema } from "./settings.js";

const CURVE_POINTS = 300;
const SHOWN_BY_DEFAULT = 4; // the newest runs drawn until the reader chooses
const LABELS = Object.fromEntries(schema.settings.map((s) => [s.name, s.url || s.name]));
const COMPARED = schema.settings.filter((s) => s.group === "run" && s.form).map((s) => s.name);

let app = null;
let rows = [];
let chart = null;

export function installHistory(theApp, lossChart) {
  app = theApp;
  chart = lossChart;
  app.provide({ historySummary: summary });
  app.on("ready", () => refresh());
  app.on("settings", () => render());
  app.on("run", () => refresh());
  app.on("saved", (row) => {
    rows = [row, ...rows.filter((r) => r.id !== row.id)].sort((a, b) => b.savedAt - a.savedAt);
    render();
  });
}

// What the history keeps of a run (from the record autosave.js is saving): the loss is
// Python's headline loss; the curve is the chart's moving average, thinned, as the
// chart keeps it (nothing is copied whole or computed again).
function summary(record) {
  const info = app.info;
  const { smoothed, valPoints } = app.lossHistory();
  const every = Math.max(1, Math.ceil(smoothed.length / CURVE_POINTS));
  const curve = [];
  for (let i = every - 1; i < smoothed.length; i += every) curve.push([i + 1, smoothed[i]]);
  if (smoothed.length && curve.at(-1)?.[0] !== smoothed.length) curve.push([smoothed.length, smoothed.at(-1)]);
  const seconds = (record.trainedMs || 0) / 1000;
  const batch = info.settings.batch ?? 1;
  return {
    id: record.id,
    savedAt: record.savedAt,
    startedAt: record.startedAt,
    settings: { ...info.settings },
    dataset: record.dataset?.title || "",
    step: info.step,
    steps: info.steps,
    done: info.done,
    loss: info.loss ?? null,
    lossKind: valPoints.length ? "validation" : "training",
    valLoss: valPoints.at(-1)?.[1] ?? null,
    namesPerSecond: seconds > 0 ? (info.step * batch) / seconds : null,
    seconds,
    curve,
    val: valPoints.map(([step, loss]) => [step, loss]),
    shown: rows.find((r) => r.id === record.id)?.shown ?? true,
  };
}

async function refresh() {
  try {
    const { good, bad } = await listHistory();
    rows = good.sort((a, b) => b.savedAt - a.savedAt);
    await keepAsideBad("history", bad);
  } catch {
    rows = [];
  }
  render();
}

// "lr 0.005, batch 4": what differs from the settings in the form now.
function difference(row) {
  const current = app.readSettings?.() || {};
  const parts = COMPARED.filter((name) => name in current && row.settings[name] !== current[name] && current[name] !== null)
    .map((name) => `${LABELS[name]} ${row.settings[name]}`);
  if (row.dataset && app.dataset?.title && row.dataset !== app.dataset.title) parts.push(`on ${row.dataset}`);
  return parts.length ? parts.join(", ") : "same settings";
}

const LOSS_KINDS = { validation: " (held out)", training: " (training)" };

function label(row) {
  return row.id === app.runId ? "this run" : difference(row);
}

function render() {
  const body = $("run-history").tBodies[0];
  body.replaceChildren(...rows.map((row, i) => {
    const show = el("input", { type: "checkbox", checked: row.shown !== false && (i < SHOWN_BY_DEFAULT || row.shown === true) });
    show.setAttribute("aria-label", `Draw the run "${label(row)}" on the chart`);
    show.addEventListener("change", () => {
      row.shown = show.checked;
      putHistory(row).catch(() => {});
      drawCurves();
    });
    const forget = el("button", { type: "button", textContent: "Forget", dataset: { testid: "forget-run" } });
    forget.setAttribute("aria-label", `Forget the run "${label(row)}"`);
    forget.addEventListener("click", () => onForget(row));
    const fmt = (x, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : "–");
    return el("tr", { dataset: { testid: "run-row", id: row.id } },
      el("td", {}, show),
      el("th", { scope: "row", textContent: label(row) }),
      el("td", { textContent: `${row.step.toLocaleString("en")} / ${row.steps.toLocaleString("en")}` }),
      el("td", { textContent: `${fmt(row.loss)}${LOSS_KINDS[row.lossKind] ?? ""}` }),
      el("td", { textContent: Number.isFinite(row.namesPerSecond) ? row.namesPerSecond.toFixed(0) : "–" }),
      el("td", { textContent: Number.isFinite(row.seconds) ? `${row.seconds.toFixed(0)} s` : "–" }),
      el("td", {}, forget));
  }));
  $("run-history-empty").hidden = rows.length > 0;
  drawCurves();
}

// The ticked runs other than the current one, faintly on the chart (rebuilt only when
// that set or its labels change, not at each save of the current run).
let drawn = "";
function drawCurves() {
  const boxes = [...$("run-history").tBodies[0].querySelectorAll("input[type=checkbox]")];
  const shown = rows.filter((row, i) => boxes[i]?.checked && row.id !== app.runId);
  const key = JSON.stringify(shown.map((row) => [row.id, row.savedAt, label(row)]));
  if (key === drawn) return;
  drawn = key;
  chart.setOthers(shown.map((row) => ({ label: label(row), curve: row.curve, val: row.val, steps: row.steps })));
  chart.draw(true);
}

async function onForget(row) {
  try {
    await deleteHistory(row.id);
  } catch (error) {
    app.showError(error);
    return;
  }
  rows = rows.filter((r) => r.id !== row.id);
  render();
}
