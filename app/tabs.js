// Which tab has which run. The tab that shows a run holds a Web Lock named after the
// run's id, so other tabs of this browser know it is open and never write or delete it;
// a BroadcastChannel carries "let me have it" from one tab to the one holding it, which
// saves the run, lets go, and the asking tab then opens it (autosave.js does both ends).
// The lock also goes when a tab closes or crashes, so a run is never stuck.
//
// Any script of this origin can post on the channel (a lesson cell, a page of another
// project on the same host), so a message is input like any other: it is checked field by
// field, and a take-over is honoured only when a second client really waits for the
// run's lock (the asking tab requests the lock before it asks). A message alone, forged
// or stale, stops nothing.
const CHANNEL = "tinygpt-runs";
const LOCK_PREFIX = "tinygpt-run-";
const lockName = (id) => `${LOCK_PREFIX}${id}`;
const supported = () => Boolean(navigator.locks?.request && navigator.locks?.query);
const MAX_ID_CHARS = 100; // a run id is a UUID (36 characters); anything longer is not ours
const WAITER_POLL_MS = 50; // how often, and how long, to look for the asking tab's lock request
const WAITER_WAIT_MS = 1500;

const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(CHANNEL) : null;
let held = null; // {id, release}: the run this tab holds
let pending = null; // {id, controller}: the run this tab waits for
const takeoverListeners = new Set();

// A take-over message, or null for anything else: {type: "takeover", id} and nothing more.
export function readMessage(message) {
  if (!message || typeof message !== "object" || Array.isArray(message)) return null;
  const keys = Object.keys(message);
  if (keys.length !== 2 || message.type !== "takeover") return null;
  const { id } = message;
  if (typeof id !== "string" || id.length === 0 || id.length > MAX_ID_CHARS) return null;
  return { type: "takeover", id };
}

let looking = false; // one look for a waiting tab at a time, however many messages come

if (channel) {
  channel.onmessage = (event) => {
    const message = readMessage(event.data);
    if (!message || !held || message.id !== held.id || looking) return;
    const { id } = message;
    looking = true;
    someoneWaitsFor(id).then((waiting) => {
      looking = false;
      if (waiting && held?.id === id) for (const fn of takeoverListeners) fn(id);
    }, () => {
      looking = false;
    });
  };
}

// True when a client other than this tab waits for run `id`'s lock, within a moment (the
// asking tab's request may reach the lock manager just after its message reaches us).
async function someoneWaitsFor(id) {
  if (!supported()) return false;
  const name = lockName(id);
  for (let waited = 0; waited <= WAITER_WAIT_MS; waited += WAITER_POLL_MS) {
    const { held: holders = [], pending: waiting = [] } = await navigator.locks.query();
    const mine = holders.find((lock) => lock.name === name)?.clientId;
    if (mine === undefined) return false; // not ours any more
    if (waiting.some((lock) => lock.name === name && lock.clientId !== mine)) return true;
    await new Promise((resolve) => setTimeout(resolve, WAITER_POLL_MS));
  }
  return false;
}

// True when another tab of this browser holds run `id` open.
export async function openElsewhere(id) {
  if (!supported() || held?.id === id) return false;
  return (await openRuns()).has(id);
}

// The ids of the runs some tab of this browser holds open (this one's too).
export async function openRuns() {
  if (!supported()) return new Set(held ? [held.id] : []);
  const { held: locks = [] } = await navigator.locks.query();
  return new Set(locks.filter((lock) => lock.name.startsWith(LOCK_PREFIX)).map((lock) => lock.name.slice(LOCK_PREFIX.length)));
}

// Holds run `id` for this tab, waiting while another tab has it. Resolves true once held,
// false if given up first (this tab claimed another run, or let go, meanwhile).
export function claim(id) {
  if (held?.id === id) return Promise.resolve(true);
  release();
  if (!supported()) {
    held = { id, release: () => {} };
    return Promise.resolve(true);
  }
  const controller = new AbortController();
  pending = { id, controller };
  return new Promise((resolve) => {
    navigator.locks.request(lockName(id), { signal: controller.signal }, () => new Promise((letGo) => {
      if (pending?.controller === controller) pending = null;
      held = { id, release: letGo };
      resolve(true);
    })).catch(() => resolve(false));
  });
}

// Lets go of this tab's run, if any, and stops waiting for one.
export function release() {
  if (pending) {
    pending.controller.abort();
    pending = null;
  }
  if (held) {
    const { release: letGo } = held;
    held = null;
    letGo();
  }
}

export const heldRun = () => held?.id ?? null;

// Runs fn() while holding run `id`'s lock, if no tab has it now; false if one has.
// (Forgetting a run: no tab may open it while it is being deleted.)
export async function whileFree(id, fn) {
  if (!supported()) return held?.id === id ? false : (await fn(), true);
  return navigator.locks.request(lockName(id), { ifAvailable: true }, async (lock) => {
    if (!lock) return false;
    await fn();
    return true;
  });
}

// Asks the tab holding run `id` to save it and let go (after claim(id) has asked for it).
export function askForRun(id) {
  channel?.postMessage({ type: "takeover", id });
}

// fn(id) when another tab asks for the run this tab holds, and really waits for it.
export function onRunWanted(fn) {
  takeoverListeners.add(fn);
}
