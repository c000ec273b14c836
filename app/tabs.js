// Which tab has which run. The tab that shows a run holds a Web Lock named after the
// run's id, so other tabs of this browser know it is open and never write or delete it;
// a BroadcastChannel carries "let me have it" from one tab to the one holding it, which
// saves the run, lets go, and the asking tab then opens it (autosave.js does both ends).
// The lock also goes when a tab closes or crashes, so a run is never stuck.
const CHANNEL = "tinygpt-runs";
const lockName = (id) => `tinygpt-run-${id}`;
const supported = () => Boolean(navigator.locks?.request);

const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(CHANNEL) : null;
let held = null; // {id, release}
const takeoverListeners = new Set();

if (channel) {
  channel.onmessage = (event) => {
    const message = event.data;
    if (message?.type === "takeover" && held && message.id === held.id) {
      for (const fn of takeoverListeners) fn(message.id);
    }
  };
}

// True when another tab of this browser holds run `id` open.
export async function openElsewhere(id) {
  if (!supported() || held?.id === id) return false;
  const { held: locks = [] } = await navigator.locks.query();
  return locks.some((lock) => lock.name === lockName(id));
}

// Holds run `id` for this tab, waiting while another tab has it; resolves once held.
export function claim(id) {
  if (held?.id === id) return Promise.resolve();
  release();
  if (!supported()) {
    held = { id, release: () => {} };
    return Promise.resolve();
  }
  return new Promise((acquired) => {
    navigator.locks.request(lockName(id), () => new Promise((letGo) => {
      held = { id, release: letGo };
      acquired();
    }));
  });
}

// Lets go of this tab's run, if any.
export function release() {
  if (held) {
    const { release: letGo } = held;
    held = null;
    letGo();
  }
}

export const heldRun = () => held?.id ?? null;

// Asks the tab holding run `id` to save it and let go.
export function askForRun(id) {
  channel?.postMessage({ type: "takeover", id });
}

// fn(id) when another tab asks for the run this tab holds.
export function onRunWanted(fn) {
  takeoverListeners.add(fn);
}
