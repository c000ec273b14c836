// The database layer: TinyGPT's IndexedDB, its stores, and what can go wrong with them.
// No policy here (when to save, what to tell the reader): autosave.js, saved-runs.js,
// models.js and history.js decide that. The lessons read the latest run through this
// module alone. Every record read is checked field by field (records.js): the readers
// give the good ones, and the keys and reasons of the bad ones, which are never used.
//
// Stores (version 2; docs/formats.md describes every record):
//   runs        {id, savedAt, startedAt, step, steps, done, dataset, trainedMs, state}
//               one per training run, `state` is Python's packed run state
//               (Session.run_state(packed=true))
//   history     {id, ...summary, curve, val}  each run's settings and loss curve, kept
//               after the run itself is discarded ("runs side by side")
//   models      {id, name, dataset, params, config, steps, loss, savedAt}  saved models
//   modelFiles  {id, file}  each saved model's file (JSON text), read only to open it
//   keptAside   {id, keptAt, reason, store, record}  records that could not be read or
//               restored, kept for the reader to download, never silently deleted
import { RecordError, checkHistory, checkModel, checkRun, readKeptAside } from "./records.js";
const NAME = "tinygpt";
const VERSION = 2;
const TIMEOUT_MS = 10_000; // an open that hangs this long is reported, then retried

export class StorageError extends Error {
  constructor(message, cause) {
    super(message);
    this.kind = "user";
    this.cause = cause;
    this.reason = cause?.name || "Error";
  }
}

// What really failed, in words a reader can act on.
export function explain(error) {
  switch (error?.name) {
    case "QuotaExceededError":
      return "the browser's storage for this site is full";
    case "VersionError":
      return "a newer version of TinyGPT is open in another tab: reload this page to keep saving";
    case "BlockedError":
      return "an older TinyGPT tab is open and holds the database: reload or close that tab";
    case "TimeoutError":
      return "the browser did not open the database in time";
    case "DataCloneError":
      return "the browser could not store this data";
    default:
      return "this browser refuses to store data for this site (private browsing does that)";
  }
}

let dbPromise = null;
const watchers = new Set(); // fn(event) for "blocked", "unblocked", "closed"

export function onDatabaseEvent(fn) {
  watchers.add(fn);
}

function tell(event) {
  for (const fn of watchers) fn(event);
}

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function named(name, message) {
  return new DOMException(message, name);
}

// Version 1 had one run under the key "current" and whole model files inside the
// model records: both move to the version 2 stores, nothing is dropped.
function upgrade(db, tx, oldVersion) {
  let oldRuns = null;
  if (oldVersion === 1 && db.objectStoreNames.contains("runs")) {
    oldRuns = tx.objectStore("runs");
    oldRuns.name = "runsVersion1";
  }
  if (!db.objectStoreNames.contains("runs")) db.createObjectStore("runs", { keyPath: "id" });
  if (!db.objectStoreNames.contains("history")) db.createObjectStore("history", { keyPath: "id" });
  if (!db.objectStoreNames.contains("models")) db.createObjectStore("models", { keyPath: "id", autoIncrement: true });
  if (!db.objectStoreNames.contains("modelFiles")) db.createObjectStore("modelFiles", { keyPath: "id" });
  if (!db.objectStoreNames.contains("keptAside")) db.createObjectStore("keptAside", { keyPath: "id", autoIncrement: true });
  if (oldRuns) {
    oldRuns.get("current").onsuccess = (event) => {
      const old = event.target.result;
      if (old) tx.objectStore("runs").put(runFromVersion1(old));
      db.deleteObjectStore("runsVersion1");
    };
  }
  if (oldVersion === 1) {
    tx.objectStore("models").openCursor().onsuccess = (event) => {
      const cursor = event.target.result;
      if (!cursor) return;
      const { file, ...summary } = cursor.value;
      if (typeof file === "string") {
        tx.objectStore("modelFiles").put({ id: summary.id, file });
        cursor.update(summary);
      }
      cursor.continue();
    };
  }
}

function runFromVersion1(old) {
  const state = old.state || {};
  return {
    id: newRunId(),
    savedAt: Number(old.savedAt) || Date.now(),
    step: Number.isInteger(state.step) ? state.step : 0,
    steps: Number.isInteger(state.settings?.steps) ? state.settings.steps : 0,
    done: false,
    dataset: { id: typeof old.dataset === "string" ? old.dataset : "custom", title: "" },
    state,
  };
}

export function newRunId() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

function openOnce() {
  return new Promise((resolve, reject) => {
    let req;
    try {
      if (!window.indexedDB) throw named("InvalidStateError", "IndexedDB is missing");
      req = indexedDB.open(NAME, VERSION);
    } catch (error) {
      reject(error);
      return;
    }
    let blocked = false;
    const timer = setTimeout(() => {
      if (!blocked) reject(named("TimeoutError", "opening the database took too long"));
    }, TIMEOUT_MS);
    req.onupgradeneeded = (event) => upgrade(req.result, req.transaction, event.oldVersion);
    req.onsuccess = () => {
      clearTimeout(timer);
      const db = req.result;
      // A newer page wants to upgrade the database: let it, and reopen on the next use
      // (which then says plainly that this page is the older one).
      db.onversionchange = () => {
        db.close();
        dbPromise = null;
        tell("closed");
      };
      db.onclose = () => {
        dbPromise = null;
      };
      if (blocked) tell("unblocked");
      resolve(db);
    };
    req.onerror = () => {
      clearTimeout(timer);
      reject(req.error);
    };
    // An older tab holds the database open: the open waits until that tab lets go.
    req.onblocked = () => {
      blocked = true;
      tell("blocked");
    };
  });
}

function openDb() {
  if (!dbPromise) {
    dbPromise = openOnce();
    dbPromise.catch(() => {
      dbPromise = null; // the next use tries again
    });
  }
  return dbPromise;
}

// Runs `work(stores)` in one transaction over `names` and resolves with its result once
// the transaction has committed; any failure becomes a StorageError saying why.
export async function transact(names, mode, work) {
  try {
    const db = await openDb();
    const tx = db.transaction(names, mode);
    const done = new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onabort = () => reject(tx.error || named("AbortError", "the transaction was aborted"));
      tx.onerror = () => reject(tx.error);
    });
    const stores = Object.fromEntries([names].flat().map((name) => [name, tx.objectStore(name)]));
    const result = await Promise.all([work(stores), done]);
    return result[0];
  } catch (error) {
    throw new StorageError(`Your work is not being saved: ${explain(error)}.`, error);
  }
}

const one = (store, mode, fn) => transact(store, mode, (stores) => fn(stores[store]));

// Reads `store`: {good: [keep(record, key) for each record that passes `check`], bad:
// [{key, reason}]}. A cursor reads one record per event, so many big records never make
// one long task, and `keep` can drop what is not needed (a run's state) as it goes.
function readAll(store, check, keep = (record) => record) {
  return one(store, "readonly", (s) => new Promise((resolve, reject) => {
    const good = [];
    const bad = [];
    const cursor = s.openCursor();
    cursor.onsuccess = () => {
      const c = cursor.result;
      if (!c) {
        resolve({ good, bad });
        return;
      }
      try {
        good.push(keep(check(c.value), c.primaryKey));
      } catch (error) {
        if (!(error instanceof RecordError)) {
          reject(error);
          return;
        }
        bad.push({ key: c.primaryKey, reason: error.message });
      }
      c.continue();
    };
    cursor.onerror = () => reject(cursor.error);
  }));
}

// One record of `store`, checked; null if there is none; a RecordError if it is bad.
async function readOne(store, key, check) {
  const value = await one(store, "readonly", (s) => request(s.get(key)));
  return value === undefined ? null : check(value);
}

// --- runs -----------------------------------------------------------------------------
export const getRun = (id) => readOne("runs", id, checkRun);
export const putRun = (record) => one("runs", "readwrite", (s) => request(s.put(record)));
export const deleteRun = (id) => one("runs", "readwrite", (s) => request(s.delete(id)));

// Every good run without its state, newest first, and the bad ones.
export async function listRuns() {
  const { good, bad } = await readAll("runs", checkRun, ({ state: _state, ...run }) => run);
  return { runs: good.sort((a, b) => b.savedAt - a.savedAt), bad };
}

// The newest saved run's state, for the lessons (null if none, or storage is refused).
export async function latestRunState() {
  try {
    const { runs: [newest] } = await listRuns();
    return newest ? (await getRun(newest.id))?.state ?? null : null;
  } catch {
    return null;
  }
}

// --- kept aside ---------------------------------------------------------------------------
// Moves record `key` of `store` (a saved model with its file) into keptAside, with the
// reason, in one transaction: it is never lost, and it no longer stops anything. Resolves
// true if it moved it (false: it was no longer there).
export function keepAside(store, key, reason) {
  const names = store === "models" ? ["models", "modelFiles", "keptAside"] : [store, "keptAside"];
  return transact(names, "readwrite", async (stores) => {
    const record = await request(stores[store].get(key));
    if (record === undefined) return false;
    const kept = { keptAt: Date.now(), reason: String(reason).slice(0, 500), store, record };
    if (store === "models") {
      kept.record = { summary: record, file: (await request(stores.modelFiles.get(key)))?.file ?? null };
      await request(stores.modelFiles.delete(key));
    }
    await request(stores.keptAside.add(kept));
    await request(stores[store].delete(key));
    return true;
  });
}

// Every kept-aside record (never refused: see records.readKeptAside).
export async function listKeptAside() {
  return (await readAll("keptAside", (value) => value, readKeptAside)).good;
}

export const deleteKeptAside = (id) => one("keptAside", "readwrite", (s) => request(s.delete(id)));

// --- run history -------------------------------------------------------------------------
export const putHistory = (record) => one("history", "readwrite", (s) => request(s.put(record)));
export const listHistory = () => readAll("history", checkHistory);
export const deleteHistory = (id) => one("history", "readwrite", (s) => request(s.delete(id)));

// --- saved models ------------------------------------------------------------------------
export const listModels = () => readAll("models", checkModel);
export const getModel = (id) => readOne("models", id, checkModel);

export async function getModelFile(id) {
  return (await one("modelFiles", "readonly", (s) => request(s.get(id))))?.file ?? null;
}

// Stores a model's summary and its file together; resolves with the new id.
export function addModel(summary, file) {
  return transact(["models", "modelFiles"], "readwrite", async (stores) => {
    const id = await request(stores.models.add(summary));
    await request(stores.modelFiles.put({ id, file }));
    return id;
  });
}

export const renameModel = (record, name) => one("models", "readwrite", (s) => request(s.put({ ...record, name })));

export function deleteModel(id) {
  return transact(["models", "modelFiles"], "readwrite", (stores) => Promise.all([
    request(stores.models.delete(id)),
    request(stores.modelFiles.delete(id)),
  ]));
}
