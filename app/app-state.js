// The page's state in one place: what Python reports about the run or model on the page
// (`info`, Session.info), the state shown in `status` (loading -> ready -> training <->
// paused -> done, or error), and the events other modules subscribe to:
//   "state"  {state, text}         the status changed
//   "run"    info | null            a run started, was restored, or was discarded
//   "model"  info                   a model was opened (link, file, saved model)
//   "step"   a train_for result     training moved (merged since the last frame)
//   "live"   {step, names}          live names while training
//   "saved"  a history summary      autosave stored the run
//   "settings"                      the settings form changed
//   "ready"                         Python is ready and the page is wired
import { call } from "./bridge.js";
import { clearError, showError } from "./dom.js";

export const app = {
  state: "loading",
  info: null,
  presets: [],
  dataset: { id: "custom", title: "" }, // the current run's data
  runId: null, // this tab's run (autosave.js)
  lastSamples: null, // the names on show and how they were made (for "Share names")
  listeners: {},
  call,
  clearError,
  on(event, fn) {
    (this.listeners[event] ??= []).push(fn);
  },
  emit(event, detail) {
    for (const fn of this.listeners[event] ?? []) fn(detail);
  },
  showError(error) {
    reportError(error);
  },
};
window.tinygptApp = app; // for debugging in the console

// The one place errors reach the reader: a user error as its message; a bug with its
// details for a report.
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
