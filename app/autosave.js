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
// - Another tab may ask for this tab's run; it gets it only if it really waits for the
//   run's lock (tabs.js), and this tab then says loudly where the run went and how to
//   take it back. A message alone stops nothing.
// - A saved run that cannot be read or restored (damaged, from a newer TinyGPT, written
//   by something else, or a bug) is kept aside with the reason (saved-runs.js), can be
//   downloaded, and is never deleted silently.
import { $, clearError } from "./dom.js";
import { StorageError, deleteRun, explain, getRun, listRuns, newRunId, onDatabaseEvent, putHistory, putRun } from "./db.js";
import { call } from "./bridge.js";
import { RecordError } from "./records.js";
import { keepAsideBad, setAside, showSavedRuns } from "./saved-runs.js";
import { askForRun, claim, heldRun, onRunWanted, openElsewhere, openRuns, release } from "./tabs.js";

const SAVE_EVERY_MS = 1000;
const TAKEOVER_PATIENCE_MS = 5000; // then the asking tab says who it waits for

let app = null;
let lastSaveTime = 0;
let lastSaved = null; // what the last save held ({step, done, loss}): a save that adds nothing is skipped
let scheduled = 0;
let saving = Promise.resolve(); // saves run one after another, in order
let failure = null; // the storage failure being shown, if any

export function installAutosave(theApp) {
  app = theApp;
  app.provide({ openSavedRun: (id) => openRun(id) });
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
    lastSaved = null;
    release();
    markDiscarded(id, true);
    saving = saving.then(() => deleteRun(id)).then(() => markDiscarded(id, false)).catch(reportFailure);
  }
}

// A discarded run is deleted after the saves queued before it, which can take a moment;
// a reload may come first. So its id is written down at once (localStorage is
// synchronous) and such a run is never restored: the next start deletes it. The list is
// read as untrusted input, like every record (docs/formats.md).
const DISCARDED_KEY = "tinygpt-discarded-runs";
const MAX_DISCARDED = 50;

function discardedRuns() {
  try {
    const ids = JSON.parse(localStorage.getItem(DISCARDED_KEY) || "[]");
    return Array.isArray(ids) ? ids.filter((id) => typeof id === "string" && id.length <= 100).slice(-MAX_DISCARDED) : [];
  } catch {
    return []; // unreadable or refused storage: nothing written down
  }
}

function markDiscarded(id, discarded) {
  const ids = discardedRuns().filter((other) => other !== id);
  if (discarded) ids.push(id);
  try {
    localStorage.setItem(DISCARDED_KEY, JSON.stringify(ids.slice(-MAX_DISCARDED)));
  } catch {
    // storage refused: the delete itself still runs
  }
}

function startNewRun() {
  if (app.runId) release(); // the previous run stays saved; this tab now has the new one
  app.runId = newRunId();
  app.runStarted = Date.now();
  app.trainedMs = 0;
  lastSaved = null;
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
  // The step Python saved, which the page's own (app.info, drawn once a frame) may lag.
  lastSaved = { step: record.step, done: record.done, loss: app.info.loss };
  saving = saving.then(() => store(record));
  return saving;
}

// What a save holds that can change: the step, whether the run is done, and its headline
// loss. Not the step alone: a run's last step comes before its last held-out loss is
// measured and before it is done, and a save made in between (about every second) must
// not stop the save at the end, or the run would stay saved as not done with the older
// loss in its history row.
const savedAlready = (info) =>
  lastSaved?.step === info.step && lastSaved.done === info.done && Object.is(lastSaved.loss, info.loss);

// The record to save, taken now (synchronously, so a pause saves the paused step).
function snapshot() {
  const info = app?.info;
  if (!info?.trainable || !app.runId || savedAlready(info) || heldRun() !== app.runId) return null;
  let state;
  try {
    state = call("run_state", { packed: true });
  } catch {
    return null; // no run in Python (it was just replaced)
  }
  return {
    id: app.runId,
    savedAt: Date.now(),
    startedAt: app.runStarted,
    step: state.step,
    steps: info.steps,
    done: info.done,
    dataset: { ...app.dataset },
    trainedMs: app.trainedMs,
    state,
  };
}

async function store(record) {
  try {
    const summary = app.historySummary(record);
    await putRun(record);
    await putHistory(summary);
    app.emit("saved", summary);
    if (failure) {
      if ($("error").textContent.includes(failure)) clearError(); // that message, not another
      failure = null;
    }
    if (lastSaved?.step === record.step) showStatus(`Your run is saved in this browser (step ${record.step.toLocaleString("en")}).`, "saved", record.step);
  } catch (error) {
    lastSaved = null; // not saved: try again next time
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
    const listed = await listRuns();
    runs = listed.runs;
    // Records that cannot be read are kept aside, except one another tab holds (that
    // tab writes its run again at its next save).
    const open = await openRuns();
    await keepAsideBad("runs", listed.bad.filter((bad) => !open.has(String(bad.key))));
  } catch (error) {
    reportFailure(error);
    return false;
  }
  const discarded = new Set(discardedRuns());
  for (const run of runs.filter((r) => discarded.has(r.id))) {
    saving = saving.then(() => deleteRun(run.id)).then(() => markDiscarded(run.id, false)).catch(reportFailure);
  }
  const newest = runs.find((r) => !discarded.has(r.id));
  if (!newest) return false;
  // Just after a reload the lock of the page before may take a moment to go.
  if (await openElsewhere(newest.id)) await new Promise((resolve) => setTimeout(resolve, 400));
  if (await openElsewhere(newest.id)) {
    offerTakeover(newest, `Your latest run${where(newest)} is open in another tab. Training it in two tabs at once would make two different runs, so it stays there.`);
    return false;
  }
  return openRun(newest.id);
}

// " (step 340 of 1,000)"
function where(run) {
  return ` (step ${run.step.toLocaleString("en")} of ${run.steps.toLocaleString("en")})`;
}

// Opens run `id` from storage for this tab (claiming it first). A run that cannot be
// restored is kept aside, never deleted, and the reader is told why and how to get it.
async function openRun(id) {
  if (await openElsewhere(id)) {
    offerTakeover({ id }, "That run is open in another tab. Training it in two tabs at once would make two different runs, so it stays there.");
    return false;
  }
  let record;
  try {
    record = await getRun(id);
  } catch (error) {
    if (error instanceof RecordError) await setAsideRun(id, error);
    else reportFailure(error);
    return false;
  }
  if (!record) return false;
  const previous = app.runId;
  if (previous !== id) await app.beforeReplace(); // this tab's run, saved first
  if (!(await claim(id))) return false;
  let info;
  try {
    info = call("restore_run", { state: record.state });
  } catch (error) {
    // Python kept what it had: the run on the page (if any) stays this tab's.
    const stays = previous && previous !== id;
    if (stays) await claim(previous);
    await setAsideRun(id, error, stays ? "The run on this page stays as it was." : undefined);
    return false;
  }
  app.runId = id;
  app.runStarted = record.startedAt;
  app.trainedMs = record.trainedMs;
  app.dataset = { ...record.dataset };
  lastSaved = { step: info.step, done: info.done, loss: info.loss };
  app.showRun({ ...info, restored: true }, { dataset: app.dataset.id, text: record.state.text });
  showStatus(`Your run is saved in this browser (step ${info.step.toLocaleString("en")}).`, "saved", info.step);
  showSavedRuns();
  return true;
}

async function setAsideRun(id, error, after = undefined) {
  if (heldRun() === id) release();
  if (app.runId === id) app.runId = null;
  await setAside("runs", id, error, "The run saved in this browser could not be restored", after);
}

// --- two tabs ---------------------------------------------------------------------------------
function offerTakeover(run, text) {
  const box = $("open-elsewhere");
  box.dataset.run = run.id;
  $("open-elsewhere-text").textContent = text;
  box.hidden = false;
}

// This tab asks for the run another tab holds: it asks for the run's lock first (so the
// tab that holds it sees a real tab waiting), then for the run; the other tab saves it
// and lets go, and this one opens it. If no tab lets go (the holder is not a TinyGPT
// tab, or is stuck), this tab says so and keeps waiting: closing the holder brings the
// run here.
async function takeOver() {
  const id = $("open-elsewhere").dataset.run;
  if (!id) return;
  $("take-over").disabled = true;
  $("open-elsewhere-text").textContent = "Asking the other tab to hand the run over…";
  await app.beforeReplace();
  const claimed = claim(id);
  askForRun(id);
  const patience = setTimeout(() => {
    $("open-elsewhere-text").textContent = "The tab or page that has this run does not let it go. Close your other TinyGPT tabs and lesson pages: the run then opens here. It is saved in this browser.";
  }, TAKEOVER_PATIENCE_MS);
  const got = await claimed; // once the other tab has saved the run and let go
  clearTimeout(patience);
  $("take-over").disabled = false;
  if (!got) return; // this tab moved on (a new run, another run opened) meanwhile
  $("open-elsewhere").hidden = true;
  await openRun(id);
}

// Another tab asked for this tab's run, and waits for its lock (tabs.js checks that): save
// it, let go, and say loudly where it went and how to take it back.
async function giveAway() {
  const id = app.runId;
  if (!id) return;
  await app.beforeReplace();
  const step = lastSaved?.step ?? -1;
  app.runId = null;
  app.moveAway();
  release();
  lastSaved = null;
  const at = step >= 0 ? ` at step ${step.toLocaleString("en")}` : "";
  offerTakeover({ id }, `Your run went to another TinyGPT tab that asked for it${at}; it is saved in this browser. If that was not you, take it back here.`);
  app.showError(new StorageError(`Your run went to another TinyGPT tab that asked for it${at}. It is saved; to take it back, press “Open it here” under Saved models.`));
  showSavedRuns();
}
