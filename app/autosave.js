// The autosave policy: when the run is saved, which run a tab opens at start-up, what
// the reader is told. Storage itself is db.js; which tab has which run is tabs.js.
//
// - The run saves itself about every SAVE_EVERY_MS of training (a reload loses at most
//   about a second), at once when training pauses or ends, and when the page is hidden.
//   Each save is Python's packed run state (a millisecond or two of work) in a task of
//   its own, never inside a training task.
// - Every run has an id. A tab writes and deletes only its own run, and holds it (a Web
//   Lock) while it shows it: a second tab says the run is open elsewhere and offers to
//   take it over, instead of showing it too.
// - A saved run that cannot be restored (damaged, from a newer TinyGPT, or a bug) is
//   kept aside with the reason, can be downloaded, and is never deleted silently.
import { $, el } from "./dom.js";
import {
  StorageError, deleteKeptAside, deleteRun, explain, getRun, keepAside, listKeptAside, listRuns,
  newRunId, onDatabaseEvent, putHistory, putRun,
} from "./db.js";
import { askForRun, claim, heldRun, onRunWanted, openElsewhere, release } from "./tabs.js";

const SAVE_EVERY_MS = 1000;

let app = null;
let lastSaveTime = 0;
let lastSavedStep = -1;
let scheduled = 0;
let saving = Promise.resolve(); // saves run one after another, in order
let failure = null; // the storage failure being shown, if any

export function installAutosave(theApp) {
  app = theApp;
  app.on("run", (info) => onRun(info));
  app.on("step", () => {
    if (performance.now() - lastSaveTime >= SAVE_EVERY_MS) scheduleSave();
  });
  app.on("state", ({ state }) => {
    if (state === "paused" || state === "done") saveRunNow();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") saveRunNow();
  });
  window.addEventListener("pagehide", () => saveRunNow());
  onRunWanted(() => giveAway().catch((error) => app.showError(error)));
  onDatabaseEvent((event) => {
    if (event === "blocked") showStatus(`Waiting to save: ${explain({ name: "BlockedError" })}.`, "failed");
    if (event === "unblocked" && !failure) showStatus("Saving works again.", "");
  });
  $("take-over").addEventListener("click", () => takeOver().catch((error) => app.showError(error)));
  showKeptAside();
}

// A new run gets a new id (and this tab holds it); a discarded run is deleted, since
// it was this tab's. Opening a model (not trainable) leaves the run saved.
function onRun(info) {
  if (info?.trainable && !info.restored) {
    startNewRun();
    return;
  }
  if (info === null && app.runId) {
    const id = app.runId;
    app.runId = null;
    lastSavedStep = -1;
    release();
    saving = saving.then(() => deleteRun(id)).catch(reportFailure);
  }
}

function startNewRun() {
  if (app.runId) release(); // the previous run stays saved; this tab now has the new one
  app.runId = newRunId();
  app.runStarted = Date.now();
  app.trainedMs = 0;
  lastSavedStep = -1;
  lastSaveTime = performance.now(); // step 0 is only the settings: save after some training
  claim(app.runId);
}

function scheduleSave() {
  if (!scheduled) scheduled = setTimeout(saveRunNow, 0); // off the task that asked for it
}

// Saves this tab's run if it changed since the last save; resolves when stored (or failed).
export function saveRunNow() {
  clearTimeout(scheduled);
  scheduled = 0;
  const record = snapshot();
  if (!record) return saving;
  lastSaveTime = performance.now();
  lastSavedStep = record.step;
  saving = saving.then(() => store(record));
  return saving;
}

// The record to save, taken now (synchronously, so a pause saves the paused step).
function snapshot() {
  const info = app?.info;
  if (!info?.trainable || !app.runId || info.step === lastSavedStep || heldRun() !== app.runId) return null;
  let state;
  try {
    state = app.call("run_state", { packed: true });
  } catch {
    return null; // no run in Python (it was just replaced)
  }
  return {
    id: app.runId,
    savedAt: Date.now(),
    step: state.step,
    steps: info.steps,
    done: info.done,
    dataset: { ...app.dataset },
    trainedMs: app.trainedMs,
    startedAt: app.runStarted,
    state,
  };
}

async function store(record) {
  try {
    const summary = app.history.summary(record);
    await putRun(record);
    await putHistory(summary);
    app.emit("saved", summary);
    if (failure) {
      failure = null;
      app.clearStorageError?.();
    }
    if (lastSavedStep === record.step) showStatus(`Your run is saved in this browser (step ${record.step.toLocaleString("en")}).`, "saved", record.step);
  } catch (error) {
    lastSavedStep = -1; // not saved: try again next time
    reportFailure(error);
  }
}

function reportFailure(error) {
  const message = error instanceof StorageError ? error.message : `Your work is not being saved: ${explain(error)}.`;
  const text = `${message.replace(/\.$/, "")}. Training continues in memory; download the model (section 5) to keep it.`;
  if (!failure || failure !== text) app.showError(new StorageError(text));
  failure = text;
  showStatus(text, "failed");
}

function showStatus(text, state, step = null) {
  const status = $("storage-status");
  status.textContent = text;
  status.dataset.state = state;
  if (step !== null) status.dataset.step = String(step);
}

// --- start-up: the newest run this tab may open -------------------------------------------
export async function restoreSavedRun() {
  let runs;
  try {
    runs = await listRuns();
  } catch (error) {
    reportFailure(error);
    return false;
  }
  const newest = runs[0];
  if (!newest) return false;
  // Just after a reload the lock of the page before may take a moment to go.
  if (await openElsewhere(newest.id)) await new Promise((resolve) => setTimeout(resolve, 400));
  if (await openElsewhere(newest.id)) {
    offerTakeover(newest);
    return false;
  }
  await claim(newest.id);
  return openRun(newest.id);
}

// Opens run `id` from storage (this tab holds it). A run that cannot be restored is kept
// aside, never deleted, and the reader is told why and how to get it.
async function openRun(id) {
  let record;
  try {
    record = await getRun(id);
  } catch (error) {
    reportFailure(error);
    return false;
  }
  if (!record) return false;
  let info;
  try {
    if (!record.state || typeof record.state !== "object") throw new StorageError("the saved record holds no run");
    info = app.call("restore_run", { state: record.state });
  } catch (error) {
    await setAside(id, record, error);
    return false;
  }
  app.runId = id;
  app.runStarted = Number(record.startedAt) || Date.now();
  app.trainedMs = Number(record.trainedMs) || 0;
  app.dataset = { id: String(record.dataset?.id ?? "custom"), title: String(record.dataset?.title ?? "") };
  lastSavedStep = info.step;
  app.showRun({ ...info, restored: true }, { dataset: app.dataset.id, text: record.state.text });
  showStatus(`Your run is saved in this browser (step ${info.step.toLocaleString("en")}).`, "saved", info.step);
  return true;
}

async function setAside(id, record, error) {
  release();
  const why = String(error?.message || error).replace(/\.$/, "");
  try {
    await keepAside("runs", id, record, why);
  } catch (storageError) {
    reportFailure(storageError);
  }
  const bug = error?.kind === "bug" ? " (this is a bug in TinyGPT: please report it)" : "";
  app.showError(new StorageError(`The run saved in this browser could not be restored: ${why}${bug}. It is kept aside, not deleted: download it under "Saved models". Starting fresh.`));
  showKeptAside();
}

// --- two tabs ---------------------------------------------------------------------------------
function offerTakeover(run) {
  const box = $("open-elsewhere");
  box.dataset.run = run.id;
  const where = Number.isInteger(run.step) ? ` (step ${run.step.toLocaleString("en")}${Number.isInteger(run.steps) ? ` of ${run.steps.toLocaleString("en")}` : ""})` : "";
  $("open-elsewhere-text").textContent = `Your latest run${where} is open in another tab. Training it in two tabs at once would make two different runs, so it stays there.`;
  box.hidden = false;
}

// This tab asks for the run another tab holds, waits for it to be saved and let go,
// then opens it.
async function takeOver() {
  const id = $("open-elsewhere").dataset.run;
  if (!id) return;
  $("take-over").disabled = true;
  $("open-elsewhere-text").textContent = "Asking the other tab to hand the run over…";
  app.beforeReplace?.();
  askForRun(id);
  await claim(id); // waits until the other tab has saved the run and let go
  $("open-elsewhere").hidden = true;
  $("take-over").disabled = false;
  await openRun(id);
}

// Another tab asked for this tab's run: save it, let go, and say where it went.
async function giveAway() {
  const id = app.runId;
  app.stopTraining?.();
  await saveRunNow();
  app.runId = null;
  app.moveAway();
  release();
  offerTakeover({ id, step: lastSavedStep });
  $("open-elsewhere-text").textContent = "This run is now open in another tab. Open it here again to take it back.";
  lastSavedStep = -1;
}

// --- runs that could not be restored ------------------------------------------------------------
async function showKeptAside() {
  let records;
  try {
    records = await listKeptAside();
  } catch {
    return;
  }
  const list = $("kept-aside");
  list.replaceChildren(...records.map((item) => {
    const download = el("button", { type: "button", textContent: "Download", "aria-label": `Download the run kept aside on ${new Date(item.keptAt).toLocaleString()}` });
    const remove = el("button", { type: "button", textContent: "Delete", "aria-label": "Delete this kept-aside run" });
    download.addEventListener("click", () => downloadJson(item.record, `tinygpt-saved-run-${item.id}.json`));
    remove.addEventListener("click", async () => {
      if (!remove.dataset.confirming) {
        remove.dataset.confirming = "1";
        remove.textContent = "Delete? Click again";
        return;
      }
      await deleteKeptAside(item.id).catch(reportFailure);
      showKeptAside();
    });
    return el("li", { className: "saved-model", dataset: { testid: "kept-aside-run" } },
      el("div", {},
        el("span", { className: "model-name", textContent: "A saved run that could not be restored" }),
        el("span", { className: "muted model-summary", textContent: `${new Date(item.keptAt).toLocaleString()} · ${item.reason}` })),
      el("div", { className: "row" }, download, remove));
  }));
  $("kept-aside-section").hidden = records.length === 0;
}

function downloadJson(value, filename) {
  let text;
  try {
    text = JSON.stringify(value);
  } catch {
    text = String(value);
  }
  const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  const link = el("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
