// The page's state and the whole of `app`, the object the playground's modules share. Every
// member is declared here, with what it is and who sets it; the object is sealed, so a
// module that tries to add a member of its own fails at once instead of growing the
// contract unseen. Python is reached through bridge.js's `call`, never through `app`.
//
// Events (app.on / app.emit):
//   "state"    {state, text}       the status changed (main.js)
//   "run"      info | null          a run started, was restored, or was discarded (main.js)
//   "model"    info                 a model was opened: link, file, saved model (main.js)
//   "step"     a train_for result   training moved (merged since the last frame; loop.js)
//   "live"     {step, names}        live names while training (main.js)
//   "saved"    a history summary    autosave stored the run (autosave.js)
//   "settings"                      the settings form changed (main.js)
//   "ready"                         Python is ready and the page is wired (main.js)
// A listener that throws fails alone: the others still run, the caller goes on, and the
// reader is told (app.showError).
import { showError } from "./dom.js";

export const app = {
  // --- what the page shows ---------------------------------------------------------------
  // "loading" -> "ready" -> "training" <-> "paused" -> "done", or "error" (main.js setState).
  state: "loading",
  // Python's Session.info for the run or model on the page, or null. Its loss history
  // (`losses`, `val_points`) is handed to the chart, which keeps the page's one copy of it
  // (chart.js LossChart.losses); `loss` is Python's headline loss, kept current by main.js.
  info: null,
  presets: [], // the datasets of data/datasets.json (main.js, from datasets.js)
  dataset: { id: "custom", title: "" }, // the current run's data (main.js; autosave.js on restore)
  lastSamples: null, // the names on show and how they were made, for "Share names" (generate.js)

  // --- this tab's run in storage (autosave.js) ------------------------------------------
  runId: null, // the id of the run this tab holds (its Web Lock, tabs.js), or null
  runStarted: null, // when this tab's run started (Date.now())
  trainedMs: 0, // how long this tab's run has trained, summed over its sessions (main.js adds)

  // --- what main.js provides to the other modules (app.provide) -------------------------
  // showRun(info, {dataset, text}): redraws the page for a run Python restored or a model
  // it opened (restored runs, "Back to your run", another tab's run).
  showRun: notProvided("showRun"),
  // showModel(info): the same for a model opened from a link, a file or the saved models.
  showModel: notProvided("showModel"),
  // beforeReplace(): before a run or a model replaces what is on the page: stops training
  // (showing the steps it ran) and resolves once this tab's run is saved.
  beforeReplace: notProvided("beforeReplace"),
  // moveAway(): the run went to another tab: empty the page, delete nothing.
  moveAway: notProvided("moveAway"),
  // readSettings(): the run settings in the form now (settings.js readForm).
  readSettings: notProvided("readSettings"),
  // lossHistory(): the run's losses as the chart keeps them ({losses, smoothed, valPoints});
  // what history.js summarises at each save without copying or recomputing it.
  lossHistory: notProvided("lossHistory"),

  // --- what autosave.js provides ------------------------------------------------------------
  // openSavedRun(id): opens run `id` saved in this browser (saving this tab's run first);
  // resolves true if it is on the page now ("Back to your run", the saved runs' Open).
  openSavedRun: notProvided("openSavedRun"),

  // --- what history.js provides ------------------------------------------------------------
  // historySummary(record): the run's summary for "Runs side by side", stored with each save.
  historySummary: notProvided("historySummary"),

  // --- events --------------------------------------------------------------------------------
  listeners: {},
  on(event, fn) {
    (this.listeners[event] ??= []).push(fn);
  },
  emit(event, detail) {
    for (const fn of this.listeners[event] ?? []) {
      try {
        fn(detail);
      } catch (error) {
        console.error(`a listener of "${event}" failed`, error);
        reportError(error);
      }
    }
  },

  // The one place errors reach the reader: a user error as its message; a bug with its
  // details for a report.
  showError(error) {
    reportError(error);
  },

  // Fills in members declared above (the modules that own them call this once).
  provide(members) {
    for (const [name, value] of Object.entries(members)) {
      if (!this[name]?.notProvided) throw new Error(`app.${name} is not a member app-state.js leaves to be provided`);
      this[name] = value;
    }
  },
};
Object.seal(app);
window.tinygptApp = app; // for debugging in the console

function notProvided(name) {
  const placeholder = () => {
    throw new Error(`app.${name} was called before the page wired it`);
  };
  placeholder.notProvided = true;
  return placeholder;
}

function reportError(error) {
  if (error?.kind === "bug" || (error && !error.kind && error.stack)) {
    showError(
      `Something went wrong inside TinyGPT: ${error.message}. Your run is still here; try again, or start a new run.`,
      error.traceback || error.stack || "",
    );
  } else {
    showError(error?.message || String(error));
  }
}
