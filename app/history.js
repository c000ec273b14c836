// Runs side by side: every run trained in this browser keeps a summary (its settings,
// final losses, names per second, time, and its loss curves, thinned to a few hundred
// points) in the history store. A small table lists them, labelled by what differs from
// the current settings ("lr 0.005", "batch 4"); ticked runs are drawn faintly on the
// chart; "Forget" removes one. autosave.js writes a run's summary with each save.
import { smooth } from "./chart.js";
import { deleteHistory, listHistory, putHistory } from "./db.js";
import { $, el } from "./dom.js";
import { schema } from "./schema.js";

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
  app.history = { summary };
  app.on("ready", () => refresh());
  app.on("settings", () => render());
  app.on("run", () => refresh());
  app.on("saved", (row) => {
    rows = [row, ...rows.filter((r) => r.id !== row.id)].sort((a, b) => b.savedAt - a.savedAt);
    render();
  });
}

// What the history keeps of a run (from the record autosave.js is saving).
export function summary(record) {
  const info = app.info;
  const losses = info.losses;
  const every = Math.max(1, Math.ceil(losses.length / CURVE_POINTS));
  const ema = smooth(losses);
  const curve = [];
  for (let i = every - 1; i < ema.length; i += every) curve.push([i + 1, ema[i]]);
  if (ema.length && curve.at(-1)?.[0] !== ema.length) curve.push([ema.length, ema.at(-1)]);
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
    loss: ema.at(-1) ?? null,
    valLoss: info.val_points.at(-1)?.[1] ?? null,
    namesPerSecond: seconds > 0 ? (info.step * batch) / seconds : null,
    seconds,
    curve,
    val: info.val_points.map(([step, loss]) => [step, loss]),
    shown: rows.find((r) => r.id === record.id)?.shown ?? true,
  };
}

async function refresh() {
  try {
    rows = (await listHistory()).filter(valid).sort((a, b) => b.savedAt - a.savedAt);
  } catch {
    rows = [];
  }
  render();
}

// A stored summary is data like any other: use it only if it has the expected shape.
function valid(row) {
  const points = (list) => Array.isArray(list) && list.every((p) => Array.isArray(p) && p.length === 2 && p.every(Number.isFinite));
  return row && typeof row.id === "string" && row.settings && typeof row.settings === "object" && points(row.curve) && points(row.val);
}

// "lr 0.005, batch 4": what differs from the settings in the form now.
function difference(row) {
  const current = app.readSettings?.() || {};
  const parts = COMPARED.filter((name) => name in current && row.settings[name] !== current[name] && current[name] !== null)
    .map((name) => `${LABELS[name]} ${row.settings[name]}`);
  if (row.dataset && app.dataset?.title && row.dataset !== app.dataset.title) parts.push(`on ${row.dataset}`);
  return parts.length ? parts.join(", ") : "same settings";
}

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
      el("td", { textContent: fmt(row.loss) }),
      el("td", { textContent: fmt(row.valLoss) }),
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
  chart.setHistory(shown.map((row) => ({ label: label(row), curve: row.curve, val: row.val, steps: row.steps })));
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
