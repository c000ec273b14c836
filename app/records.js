// The records of the page's database (docs/formats.md, "The page's database"), checked
// field by field each time one is read. Any script of this origin can write them (a
// lesson cell, another tab, an older or a newer TinyGPT), so a record is input like a
// link: its type, every field the page uses and their sizes are checked before anything
// uses them. A check returns the fields the page uses (fields it does not know are left
// out) or throws a RecordError saying what is wrong; the caller then keeps the record
// aside (db.js keepAside), never uses it and never deletes it silently.
//
// The state inside a run record (Python's packed run) is checked by Python when the run is
// restored (Session.restore_run); here only that it is an object.
import { hiddenCharacter } from "./letters.js";

export class RecordError extends Error {
  constructor(message) {
    super(message);
    this.kind = "user";
  }
}

const MAX_ID_CHARS = 100; // run ids are UUIDs (36 characters)
const MAX_TITLE_CHARS = 200; // a dataset's title (Python gives at most 80)
export const MAX_MODEL_NAME_CHARS = 60; // a saved model's name, as the reader types it
const MAX_REASON_CHARS = 500;
const MAX_CURVE_POINTS = 1000; // a history curve is thinned to about 300 points
const MAX_VAL_POINTS = 20_000; // more than any run measures (one per 100 steps)
const MAX_SETTINGS = 40;
const MAX_SETTING_CHARS = 100;
const STORES = ["runs", "history", "models"]; // what a kept-aside record may come from

function fail(message) {
  throw new RecordError(message);
}

const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);

function text(value, what, max, { empty = true, visible = false } = {}) {
  if (typeof value !== "string") fail(`${what} is not text`);
  if (!empty && value.length === 0) fail(`${what} is empty`);
  if (value.length > max) fail(`${what} is longer than ${max} characters`);
  if (visible && hiddenCharacter(value) !== null) fail(`${what} holds an invisible or control character`);
  return value;
}

function number(value, what, { min = 0, max = Number.MAX_VALUE, integer = false, nullable = false } = {}) {
  if (nullable && value === null) return null;
  if (typeof value !== "number" || !Number.isFinite(value)) fail(`${what} is not a finite number`);
  if (integer && !Number.isInteger(value)) fail(`${what} is not a whole number`);
  if (value < min || value > max) fail(`${what} is out of range`);
  return value;
}

// An optional field: absent (undefined) gives `otherwise`, anything else must pass `check`.
const optional = (value, otherwise, check) => (value === undefined ? otherwise : check(value));

// When a run started: absent or null in records of older pages (then: when it was saved).
const startTime = (value, savedAt) => (value === undefined || value === null ? savedAt : number(value, "the time it started"));

function boolean(value, what) {
  if (typeof value !== "boolean") fail(`${what} is not true or false`);
  return value;
}

// [[step, loss], ...]: at most `max` points, steps whole numbers from 1 to `steps`.
function points(value, what, max, steps) {
  if (!Array.isArray(value)) fail(`${what} is not a list`);
  if (value.length > max) fail(`${what} has more than ${max} points`);
  return value.map((point) => {
    if (!Array.isArray(point) || point.length !== 2) fail(`${what} holds something that is not a point`);
    return [number(point[0], `a step of ${what}`, { min: 1, max: steps, integer: true }), number(point[1], `a loss of ${what}`)];
  });
}

// The run's progress: {step, steps} with 0 <= step <= steps, steps >= 1.
function progress(record) {
  const steps = number(record.steps, "its step count", { min: 1, integer: true });
  const step = number(record.step, "its step", { max: steps, integer: true });
  return { step, steps };
}

// --- runs ----------------------------------------------------------------------------------
// A saved run: {id, savedAt, startedAt, step, steps, done, dataset: {id, title}, trainedMs,
// state} and its size in bytes (about: what it takes in storage).
export function checkRun(record) {
  if (!isObject(record)) fail("it is not a saved run");
  const id = text(record.id, "its id", MAX_ID_CHARS, { empty: false });
  const savedAt = number(record.savedAt, "the time it was saved");
  const dataset = record.dataset;
  if (!isObject(dataset)) fail("it does not say what data the run trains on");
  if (!isObject(record.state)) fail("it holds no run");
  return {
    id,
    savedAt,
    startedAt: startTime(record.startedAt, savedAt),
    ...progress(record),
    done: boolean(record.done, "whether it is done"),
    dataset: { id: text(dataset.id, "its dataset's id", MAX_ID_CHARS), title: text(dataset.title, "its dataset's title", MAX_TITLE_CHARS) },
    trainedMs: optional(record.trainedMs, 0, (v) => number(v, "its training time")),
    state: record.state,
    bytes: sizeOf(record),
  };
}

// --- run history ---------------------------------------------------------------------------
// A run's summary for "Runs side by side" (history.js summary writes it).
export function checkHistory(record) {
  if (!isObject(record)) fail("it is not a run summary");
  const { step, steps } = progress(record);
  if (!isObject(record.settings)) fail("its settings are not a list of settings");
  const settings = Object.entries(record.settings);
  if (settings.length > MAX_SETTINGS) fail("it has too many settings");
  for (const [name, value] of settings) {
    const ok = value === null || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value))
      || (typeof value === "string" && value.length <= MAX_SETTING_CHARS);
    if (name.length > MAX_SETTING_CHARS || !ok) fail("one of its settings is not a number or a short text");
  }
  const savedAt = number(record.savedAt, "the time it was saved");
  return {
    id: text(record.id, "its id", MAX_ID_CHARS, { empty: false }),
    savedAt,
    startedAt: startTime(record.startedAt, savedAt),
    settings: Object.fromEntries(settings),
    dataset: text(record.dataset, "its dataset", MAX_TITLE_CHARS),
    step,
    steps,
    done: boolean(record.done, "whether it is done"),
    loss: number(record.loss, "its loss", { nullable: true }),
    lossKind: optional(record.lossKind, null, (v) => (["validation", "training"].includes(v) ? v : fail("it does not say what its loss is"))),
    valLoss: number(record.valLoss, "its validation loss", { nullable: true }),
    namesPerSecond: number(record.namesPerSecond, "its names per second", { nullable: true }),
    seconds: number(record.seconds, "its training time"),
    curve: points(record.curve, "its loss curve", MAX_CURVE_POINTS, steps),
    val: points(record.val, "its validation curve", MAX_VAL_POINTS, steps),
    shown: optional(record.shown, null, (v) => boolean(v, "whether it is drawn")),
  };
}

// --- saved models ----------------------------------------------------------------------------
// A saved model's summary (its file is read, and checked by Python, only to open it).
export function checkModel(record) {
  if (!isObject(record)) fail("it is not a saved model");
  const config = record.config;
  if (!isObject(config)) fail("it does not say how big the model is");
  return {
    id: number(record.id, "its id", { min: 1, integer: true }),
    name: text(record.name, "its name", MAX_MODEL_NAME_CHARS, { empty: false, visible: true }),
    dataset: text(record.dataset, "its dataset", MAX_TITLE_CHARS, { visible: true }),
    params: number(record.params, "its parameter count", { min: 1, integer: true }),
    config: Object.fromEntries(["n_embd", "n_head", "n_layer", "block_size"].map((key) => [key, number(config[key], `its ${key}`, { min: 1, integer: true })])),
    steps: number(record.steps, "its step count", { integer: true, nullable: true }),
    loss: number(record.loss, "its loss", { nullable: true }),
    savedAt: number(record.savedAt, "the time it was saved"),
  };
}

// --- kept aside ------------------------------------------------------------------------------
// A record kept aside is shown whatever it holds (it is there because something was wrong),
// so this check never fails: fields that are not what they should be are shown as unknown.
export function readKeptAside(item, key) {
  const ok = isObject(item);
  const keptAt = ok && typeof item.keptAt === "number" && Number.isFinite(item.keptAt) ? item.keptAt : null;
  const reason = ok && typeof item.reason === "string" ? item.reason.slice(0, MAX_REASON_CHARS) : "no reason was recorded";
  const store = ok && STORES.includes(item.store) ? item.store : "runs";
  const record = ok ? item.record : item;
  return { id: key, keptAt, reason, store, record, bytes: sizeOf(record) };
}

// --- sizes -----------------------------------------------------------------------------------
// About how many bytes a record takes: its text and numbers, counted up to a bound on the
// work (a record with millions of entries is counted in part: then it is at least that).
export function sizeOf(value, budget = 200_000) {
  let bytes = 0;
  let visits = 0;
  const stack = [value];
  while (stack.length && visits < budget) {
    const item = stack.pop();
    visits += 1;
    if (typeof item === "string") bytes += item.length + 2;
    else if (typeof item === "number") bytes += 8;
    else if (Array.isArray(item)) {
      bytes += 2;
      for (let i = 0; i < item.length && stack.length < budget; i++) stack.push(item[i]);
    } else if (isObject(item)) {
      for (const key of Object.keys(item)) {
        if (stack.length >= budget) break;
        bytes += key.length + 4;
        stack.push(item[key]);
      }
    } else bytes += 4;
  }
  return bytes;
}
