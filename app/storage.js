// Keeping work across reloads, in IndexedDB: the current run (Python's Session.run_state:
// settings, data, weights, Adam moments, random state, loss history) saves itself while
// training, at most every 2 s or 200 steps and always in a task of its own after a frame,
// and again when the page is hidden or left. A reload brings it back paused. Saved
// models live in a second store. When storage is full or refused (private browsing),
// one message says so and training simply goes on in memory.
import { $ } from "./dom.js";

const DB_NAME = "tinygpt";
const DB_VERSION = 1;
const RUNS = "runs"; // one record, key "current"
const MODELS = "models"; // saved models, numbered keys
const SAVE_EVERY_MS = 2000;
const SAVE_EVERY_STEPS = 200;

let dbPromise = null;
let failure = null; // the first storage failure, once reported

export class StorageError extends Error {
  constructor(message) {
    super(message);
    this.kind = "user";
  }
}

function why(error) {
  return error?.name === "QuotaExceededError"
    ? "the browser's storage for this site is full"
    : "this browser refuses to store data for this site (private browsing does that)";
}

// One clear message for any storage failure; later failures are not repeated.
function storageFailed(error) {
  const message = `Your work is not being saved: ${why(error)}. Training continues in memory; download the model (section 5) to keep it.`;
  if (!failure) {
    failure = error || new Error("unavailable");
    window.tinygptApp?.showError(new StorageError(message));
  }
  const status = $("storage-status");
  status.textContent = message;
  status.dataset.state = "failed";
  return new StorageError(message);
}

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function openDb() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      let req;
      try {
        if (!window.indexedDB) throw new DOMException("IndexedDB is missing", "InvalidStateError");
        req = indexedDB.open(DB_NAME, DB_VERSION);
      } catch (error) {
        reject(error);
        return;
      }
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains(RUNS)) db.createObjectStore(RUNS);
        if (!db.objectStoreNames.contains(MODELS)) db.createObjectStore(MODELS, { keyPath: "id", autoIncrement: true });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
      req.onblocked = () => reject(new DOMException("blocked by another tab", "InvalidStateError"));
    });
  }
  return dbPromise;
}

// Runs `work(store)` in a transaction and resolves when it has committed. Any failure
// (refused, quota, a throwing put) becomes the one storage message and a StorageError.
async function withStore(name, mode, work) {
  try {
    const db = await openDb();
    const tx = db.transaction(name, mode);
    const done = new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onabort = () => reject(tx.error);
      tx.onerror = () => reject(tx.error);
    });
    const result = await Promise.all([work(tx.objectStore(name)), done]);
    return result[0];
  } catch (error) {
    throw storageFailed(error);
  }
}

// --- the current run --------------------------------------------------------------------
// The saved run's Session.run_state, or null (also when storage does not work).
export async function loadCurrentRun() {
  return (await loadCurrentRecord())?.state ?? null;
}

async function loadCurrentRecord() {
  try {
    return (await withStore(RUNS, "readonly", (store) => request(store.get("current")))) || null;
  } catch {
    return null;
  }
}

export function clearCurrentRun() {
  return withStore(RUNS, "readwrite", (store) => request(store.delete("current"))).catch(() => {});
}

// --- saved models ---------------------------------------------------------------------------
export const listModels = () => withStore(MODELS, "readonly", (store) => request(store.getAll()));
export const getModel = (id) => withStore(MODELS, "readonly", (store) => request(store.get(id)));
export const putModel = (record) => withStore(MODELS, "readwrite", (store) => request(store.put(record)));
export const deleteModel = (id) => withStore(MODELS, "readwrite", (store) => request(store.delete(id)));

// --- saving while training ---------------------------------------------------------------------
let app = null;
let lastSaveTime = 0;
let lastSavedStep = -1;
let pending = 0;

export function installStorage(theApp) {
  app = theApp;
  app.on("step", (result) => {
    const due = performance.now() - lastSaveTime >= SAVE_EVERY_MS || result.step - lastSavedStep >= SAVE_EVERY_STEPS;
    if (result.done || due) scheduleSave();
  });
  app.on("run", (info) => {
    // A new run is worth saving after its first steps; step 0 is only the settings.
    if (info) lastSaveTime = performance.now();
    else {
      lastSavedStep = -1;
      clearCurrentRun();
      $("storage-status").textContent = failure ? $("storage-status").textContent : "";
    }
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") saveRunNow();
  });
  window.addEventListener("pagehide", () => saveRunNow());
}

function scheduleSave() {
  if (!pending) pending = setTimeout(saveRunNow, 0); // off the frame that asked for it
}

// Saves the current run if it changed since the last save; resolves when stored (or failed).
export async function saveRunNow() {
  clearTimeout(pending);
  pending = 0;
  if (!app?.info?.trainable || app.info.step === lastSavedStep) return;
  let state;
  try {
    state = app.call("run_state");
  } catch {
    return; // no run to save
  }
  const record = { state, dataset: $("dataset-select").value, savedAt: Date.now() };
  lastSaveTime = performance.now();
  lastSavedStep = state.step;
  try {
    await withStore(RUNS, "readwrite", (store) => request(store.put(record, "current")));
    if (lastSavedStep === state.step) showSaved(state.step);
  } catch {
    lastSavedStep = -1; // not saved: try again next time
  }
}

function showSaved(step) {
  const status = $("storage-status");
  status.dataset.state = "saved";
  status.dataset.step = String(step);
  status.textContent = `Your run is saved in this browser (step ${step.toLocaleString("en")}).`;
}

// On start-up: the saved run, back as it was (paused). True if one was restored.
export async function restoreSavedRun() {
  const record = await loadCurrentRecord();
  if (!record?.state) return false;
  let info;
  try {
    info = app.call("restore_run", { state: record.state });
  } catch (error) {
    app.showError(new StorageError(`The run saved in this browser could not be restored (${error.message.replace(/\.$/, "")}); starting fresh.`));
    clearCurrentRun();
    return false;
  }
  const select = $("dataset-select");
  if ([...select.options].some((o) => o.value === record.dataset)) select.value = record.dataset;
  if (select.value === "custom") $("dataset-text").value = record.state.text;
  lastSavedStep = info.step;
  app.showRun(info);
  showSaved(info.step);
  return true;
}
