// What this browser keeps for the playground, shown and bounded: the runs saved in it
// (each with its size; open one, forget one), the records that could not be read or
// restored (kept aside; download, delete), and a stated limit on both together.
//
// Runs pile up: a run stays saved when a model is opened over it, when a new run starts
// after it, or when another tab trains its own, and one can take several MB. So each is
// listed with its size, and above MAX_RECORDS records or MAX_BYTES together (saved runs
// and kept-aside records) the page offers to forget the oldest. It never deletes one
// without the reader's click, and never a run some tab has open (it deletes a run only
// while holding that run's lock, tabs.js whileFree).
import { $, download, el } from "./dom.js";
import { StorageError, deleteKeptAside, deleteRun, keepAside, listKeptAside, listRuns } from "./db.js";
import { openRuns, whileFree } from "./tabs.js";

export const MAX_RECORDS = 10;
export const MAX_BYTES = 50_000_000;

const WHAT_IS_KEPT = {
  runs: { label: "A saved run that could not be restored", file: "saved-run" },
  history: { label: "A run's summary (Runs side by side) that could not be read", file: "run-summary" },
  models: { label: "A saved model whose details could not be read", file: "saved-model" },
};

let app = null;
let rendering = Promise.resolve(); // renders run one after another
let offer = []; // what "Forget the oldest" forgets: [{kind: "run" | "kept", id}]

export function installSavedRuns(theApp) {
  app = theApp;
  app.on("ready", () => showSavedRuns());
  app.on("run", () => showSavedRuns());
  app.on("model", () => showSavedRuns());
  app.on("saved", () => {
    if (app.state !== "training") showSavedRuns(); // paused, done: not at every save of a run
  });
  $("saved-runs-about").textContent += ` TinyGPT keeps up to ${MAX_RECORDS} saved runs and kept-aside records, ${formatBytes(MAX_BYTES)} together, without asking; above that it offers to forget the oldest.`;
  const forget = $("forget-oldest");
  forget.addEventListener("click", () => {
    if (!confirmed(forget, `Forget ${offer.length}? Click again`)) return;
    forgetOldest().catch((error) => app.showError(error));
  });
}

// A button that asks once more: true on the second click (within 4 s).
function confirmed(button, question) {
  if (button.dataset.confirming) {
    delete button.dataset.confirming;
    return true;
  }
  const label = button.textContent;
  button.dataset.confirming = "1";
  button.textContent = question;
  setTimeout(() => {
    if (button.isConnected && button.dataset.confirming) {
      delete button.dataset.confirming;
      button.textContent = label;
    }
  }, 4000);
  return false;
}

export function showSavedRuns() {
  rendering = rendering.then(render).catch((error) => app.showError(error));
  return rendering;
}

async function render() {
  let listed;
  let open;
  try {
    [listed, open] = await Promise.all([listRuns(), openRuns()]);
    if (await keepAsideBad("runs", listed.bad.filter((bad) => !open.has(String(bad.key))))) listed = await listRuns();
  } catch {
    return; // storage refused: autosave.js says so
  }
  const kept = await listKeptAside().catch(() => []);
  const runs = listed.runs;
  $("saved-runs").replaceChildren(...runs.map((run) => runItem(run, open)));
  $("saved-runs-section").hidden = runs.length === 0;
  $("kept-aside").replaceChildren(...kept.map(keptItem));
  $("kept-aside-section").hidden = kept.length === 0;
  showLimit(runs, kept, open);
}

export function formatBytes(bytes) {
  return bytes < 1e6 ? `${Math.max(1, Math.ceil(bytes / 1e3))} KB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

const when = (time) => (time === null ? "at an unknown time" : new Date(time).toLocaleString());

// --- saved runs ----------------------------------------------------------------------------
function runItem(run, open) {
  const mine = run.id === app.runId;
  const elsewhere = !mine && open.has(run.id);
  const title = `${run.dataset.title || "Your own text"}, step ${run.step.toLocaleString("en")} of ${run.steps.toLocaleString("en")}${run.done ? " (done)" : ""}`;
  const where = mine ? "on this page" : elsewhere ? "open in another tab" : "";
  const summary = [formatBytes(run.bytes), `saved ${when(run.savedAt)}`, where].filter(Boolean).join(" · ");
  const buttons = [];
  if (!mine) {
    const openIt = el("button", { type: "button", textContent: "Open", "aria-label": `Open the run ${title}`, dataset: { testid: "open-saved-run" } });
    openIt.addEventListener("click", () => app.openSavedRun(run.id).catch((error) => app.showError(error)));
    buttons.push(openIt);
  }
  if (!mine && !elsewhere) {
    const forget = el("button", { type: "button", textContent: "Forget", "aria-label": `Forget the run ${title}`, dataset: { testid: "forget-saved-run" } });
    forget.addEventListener("click", () => {
      if (confirmed(forget, "Forget? Click again")) forgetRun(run.id).then(showSavedRuns).catch((error) => app.showError(error));
    });
    buttons.push(forget);
  }
  return el("li", { className: "saved-model", dataset: { testid: "saved-run", id: run.id } },
    el("div", {},
      el("span", { className: "model-name", textContent: title }),
      el("span", { className: "muted model-summary", textContent: summary, dataset: { testid: "saved-run-summary" } })),
    el("div", { className: "row" }, ...buttons));
}

// Deletes a saved run no tab has open; says so if one has.
async function forgetRun(id) {
  if (id === app.runId || !(await whileFree(id, () => deleteRun(id)))) {
    app.showError(new StorageError("That run is open in a tab: it stays saved. Forget it there with “New run”."));
    return false;
  }
  return true;
}

// --- the limit -----------------------------------------------------------------------------
function showLimit(runs, kept, open) {
  const count = runs.length + kept.length;
  const bytes = runs.reduce((sum, r) => sum + r.bytes, 0) + kept.reduce((sum, k) => sum + k.bytes, 0);
  const notice = $("storage-limit");
  offer = [];
  if (count <= MAX_RECORDS && bytes <= MAX_BYTES) {
    notice.hidden = true;
    return;
  }
  // The oldest first: runs no tab has open, and kept-aside records.
  const candidates = [
    ...runs.filter((r) => r.id !== app.runId && !open.has(r.id)).map((r) => ({ kind: "run", id: r.id, time: r.savedAt, bytes: r.bytes })),
    ...kept.map((k) => ({ kind: "kept", id: k.id, time: k.keptAt ?? 0, bytes: k.bytes })),
  ].sort((a, b) => a.time - b.time);
  let [leftCount, leftBytes] = [count, bytes];
  for (const candidate of candidates) {
    if (leftCount <= MAX_RECORDS && leftBytes <= MAX_BYTES) break;
    offer.push(candidate);
    leftCount -= 1;
    leftBytes -= candidate.bytes;
  }
  const freed = offer.reduce((sum, c) => sum + c.bytes, 0);
  $("storage-limit-text").textContent =
    `TinyGPT keeps ${count} saved runs and kept-aside records in this browser (${formatBytes(bytes)}), over its limit of ${MAX_RECORDS} and ${formatBytes(MAX_BYTES)}. ` +
    (offer.length ? `Forget the ${offer.length} oldest (${formatBytes(freed)})? Nothing is deleted until you say so.` : "The runs over the limit are open in tabs; forget some there.");
  const forget = $("forget-oldest");
  forget.hidden = offer.length === 0;
  delete forget.dataset.confirming;
  forget.textContent = `Forget the ${offer.length} oldest`;
  notice.hidden = false;
}

async function forgetOldest() {
  const chosen = offer;
  offer = [];
  let skipped = 0;
  for (const { kind, id } of chosen) {
    if (kind === "kept") await deleteKeptAside(id);
    else if (id === app.runId || !(await whileFree(id, () => deleteRun(id)))) skipped += 1; // opened meanwhile
  }
  if (skipped) app.showError(new StorageError(`${skipped} of those runs were opened in a tab meanwhile: they stay saved.`));
  await showSavedRuns();
}

// --- records kept aside ----------------------------------------------------------------------
// Moves records of `store` that failed their check (db.js: [{key, reason}]) aside and says
// so once; resolves with how many moved.
export async function keepAsideBad(store, bad) {
  let moved = 0;
  for (const { key, reason } of bad) if (await keepAside(store, key, reason)) moved += 1;
  if (moved) {
    const what = store === "runs" ? "run" : "record";
    const which = moved === 1 ? `A ${what} saved in this browser` : `${moved} ${what}s saved in this browser`;
    const failed = store === "runs" ? "could not be restored" : "could not be read";
    app.showError(new StorageError(`${which} ${failed} (${bad[0].reason}). ${moved === 1 ? "It is" : "They are"} kept aside under “Saved models”, not deleted; the rest works as before.`));
    if (store !== "runs") showSavedRuns(); // (listing the runs shows them itself)
  }
  return moved;
}

// Moves one record aside after it failed (Python refused a saved run, say), and says why;
// `after`: what happens next.
export async function setAside(store, key, error, headline, after = "Starting fresh.") {
  const why = String(error?.message || error).replace(/\.$/, "");
  try {
    await keepAside(store, key, why);
  } catch (storageError) {
    app.showError(storageError);
  }
  const bug = error?.kind === "bug" ? " (this is a bug in TinyGPT: please report it)" : "";
  app.showError(new StorageError(`${headline}: ${why}${bug}. It is kept aside, not deleted: download it under "Saved models". ${after}`));
  showSavedRuns();
}

function keptItem(item) {
  const what = WHAT_IS_KEPT[item.store];
  const download = el("button", { type: "button", textContent: "Download", "aria-label": `Download the record kept aside ${when(item.keptAt)}` });
  const remove = el("button", { type: "button", textContent: "Delete", "aria-label": `Delete the record kept aside ${when(item.keptAt)}` });
  download.addEventListener("click", () => downloadJson(item.record, `tinygpt-${what.file}-${item.id}.json`));
  remove.addEventListener("click", () => {
    if (confirmed(remove, "Delete? Click again")) deleteKeptAside(item.id).then(showSavedRuns).catch((error) => app.showError(error));
  });
  return el("li", { className: "saved-model", dataset: { testid: "kept-aside-run", store: item.store } },
    el("div", {},
      el("span", { className: "model-name", textContent: what.label }),
      el("span", { className: "muted model-summary", textContent: `${when(item.keptAt)} · ${formatBytes(item.bytes)} · ${item.reason}` })),
    el("div", { className: "row" }, download, remove));
}

function downloadJson(value, filename) {
  let text;
  try {
    text = JSON.stringify(value);
  } catch {
    text = String(value);
  }
  download(new Blob([text], { type: "application/json" }), filename);
}
