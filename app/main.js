// Wiring: connects the page's controls to Python through the bridge, and owns the
// page state shown in `status` (loading -> ready -> training <-> paused -> done, or error).
import { call, pythonReady } from "./bridge.js";
import { showStartupProgress, startupWatchdog } from "./boot.js";
import { LossChart } from "./chart.js";
import { loadPresets, presetText, readUpload, showPreview } from "./datasets.js";
import { $, clearError, formatLoss, showError } from "./dom.js";
import { LetterStepper, readGenerateForm, showSamples } from "./generate.js";
import { installInsides } from "./insides.js";
import { RateMeter, TrainingLoop } from "./loop.js";
import { fillForm, lockForm, readForm, runUrl, settingsFromUrl, syncUrl, validateForm } from "./settings.js";
import { installModels } from "./models.js";
import { registerServiceWorker } from "./offline.js";
import { applyLinkFromUrl, installSharing } from "./share.js";
import { installStorage, restoreSavedRun } from "./storage.js";

const finishedLoading = showStartupProgress();
const stopWatchdog = startupWatchdog();
registerServiceWorker();

// Everything the page knows about the current run; Python holds the run itself.
export const app = {
  state: "loading",
  presets: [],
  info: null, // what Python reports about the run or loaded model (Session.info)
  listeners: { step: [], run: [] }, // other modules (sharing, storage) subscribe here
  call,
  showError: reportError,
  on(event, fn) {
    this.listeners[event].push(fn);
  },
  emit(event, detail) {
    for (const fn of this.listeners[event]) fn(detail);
  },
};
window.tinygptApp = app; // for the lessons and for debugging in the console

const chart = new LossChart($("loss-chart"));
const rate = new RateMeter();
const letters = new LetterStepper(reportError);
const loop = new TrainingLoop({ onFrame, onDone, onError: onTrainingError });

function setState(state, text = "") {
  app.state = state;
  const status = $("status");
  status.dataset.state = state;
  status.textContent = state;
  $("status-text").textContent = text;
  const hasRun = app.info?.trainable && app.info.step > 0;
  const toggle = $("train-toggle");
  toggle.textContent = { training: "Pause", paused: "Resume", done: "Done" }[state] || "Train";
  toggle.disabled = state === "loading" || state === "done" || (state === "error" && !!app.info?.trainable);
  toggle.setAttribute("aria-pressed", state === "training" ? "true" : "false");
  $("reset").disabled = state === "loading" || !app.info;
  const canGenerate = state !== "loading" && !!app.info;
  for (const id of ["generate", "next-letter", "restart-letters"]) $(id).disabled = !canGenerate;
  $("copy-run-link").disabled = state === "loading";
  $("dataset-select").disabled = state === "loading" || hasRun;
  $("dataset-text").disabled = hasRun;
  $("dataset-file").disabled = hasRun;
  lockForm(state === "loading" || hasRun);
  $("set-engine").disabled = state === "loading";
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

// --- data ----------------------------------------------------------------------------
function currentPreset() {
  return app.presets.find((p) => p.id === $("dataset-select").value) || null;
}

async function currentText() {
  const preset = currentPreset();
  return preset ? presetText(preset) : $("dataset-text").value;
}

async function onDatasetChange() {
  clearError();
  const preset = currentPreset();
  $("custom-data").open = !preset;
  try {
    if (preset) showPreview(await presetText(preset), preset.title);
    else showPreview($("dataset-text").value, "Your text");
  } catch (error) {
    reportError(error);
  }
  syncUrl(readForm(), $("dataset-select").value);
}

// --- training --------------------------------------------------------------------------
async function onTrainToggle() {
  clearError();
  if (app.state === "training") {
    loop.stop(); // shows the steps Python ran since the last frame (maybe the last one)
    if (!app.info.done) setState("paused", "Paused. Resume, generate names, or start a new run.");
    return;
  }
  if (app.info?.trainable && !app.info.done) {
    startLoop();
    return;
  }
  if (!validateForm()) {
    showError("Some settings need fixing first: see the messages next to the fields.");
    return;
  }
  try {
    const text = await currentText();
    app.info = call("new_run", { text, settings: readForm() });
  } catch (error) {
    reportError(error);
    return;
  }
  chart.reset();
  chart.draw(true);
  letters.reset();
  app.emit("run", app.info);
  startLoop();
}

function startLoop() {
  rate.reset();
  setState("training", "Training…");
  $("step-total").textContent = String(app.info.steps);
  loop.start();
}

function onFrame(result) {
  const first = result.step - result.losses.length + 1;
  chart.add(first, result.losses, result.val_points);
  chart.draw(result.done);
  rate.add(result.losses.length);
  app.info.step = result.step;
  app.info.done = result.done;
  app.info.losses.push(...result.losses);
  app.info.val_points.push(...result.val_points);
  showProgress();
  app.emit("step", result);
}

function showProgress() {
  const { step, steps } = app.info;
  $("step-count").textContent = String(step);
  $("step-total").textContent = String(steps);
  $("train-progress").value = steps ? step / steps : 0;
  $("loss-value").textContent = formatLoss(chart.smoothed ?? NaN);
  const lastVal = app.info.val_points.at(-1);
  $("val-loss-value").textContent = lastVal ? formatLoss(lastVal[1]) : "–";
  const perSecond = rate.rate;
  $("steps-per-second").textContent = perSecond ? perSecond.toFixed(0) : "–";
  $("time-left").textContent = perSecond ? `${Math.ceil((steps - step) / perSecond)} s` : "–";
}

function onDone() {
  setState("done", `Finished ${app.info.steps} steps. Generate names below, or share them.`);
  $("time-left").textContent = "0 s";
}

function onTrainingError(error) {
  setState("error", "Training stopped.");
  reportError(error);
}

function showRun(info) {
  // Redraws everything from a run Python restored (a reload, a saved model).
  loop.stop({ discard: true }); // the run being trained, if any, is no longer Python's
  app.info = info;
  chart.reset();
  if (info.trainable) {
    chart.add(1, info.losses, info.val_points);
    fillForm(info.settings);
  }
  chart.draw(true);
  rate.reset();
  letters.reset();
  if (info.trainable) showProgress();
  const state = !info.trainable || info.done ? "done" : info.step > 0 ? "paused" : "ready";
  setState(state, info.trainable ? "Run restored. Resume to keep training." : "Model loaded: generate names below.");
}
app.showRun = showRun;

// "New run": asks first when there is training to lose.
function onReset() {
  if (app.info?.trainable && app.info.step > 0 && !$("reset").dataset.confirming) {
    $("reset").dataset.confirming = "1";
    $("reset").textContent = "Discard this run? Click again";
    setTimeout(() => {
      delete $("reset").dataset.confirming;
      $("reset").textContent = "New run";
    }, 4000);
    return;
  }
  delete $("reset").dataset.confirming;
  $("reset").textContent = "New run";
  loop.stop({ discard: true });
  call("discard");
  app.info = null;
  chart.reset();
  chart.draw(true);
  letters.reset();
  showSamples([]);
  for (const id of ["loss-value", "val-loss-value", "steps-per-second", "time-left"]) $(id).textContent = "–";
  $("step-count").textContent = "0";
  $("train-progress").value = 0;
  clearError();
  app.emit("run", null);
  setState("ready", "Pick data and settings, then press Train.");
}

// --- generating ------------------------------------------------------------------------
function onGenerate() {
  clearError();
  const options = readGenerateForm();
  if (!options) return;
  try {
    app.lastSamples = { ...options, names: call("generate", options) };
    showSamples(app.lastSamples.names);
  } catch (error) {
    reportError(error);
  }
}

function temperature() {
  const value = Number($("temperature").value);
  return Number.isFinite(value) && value > 0 ? value : 0.5;
}

// --- the run link ----------------------------------------------------------------------
async function onCopyRunLink() {
  if (!validateForm()) return;
  const link = runUrl(readForm(), $("dataset-select").value);
  const note = currentPreset() ? "" : " (your own text is not part of the link)";
  try {
    await navigator.clipboard.writeText(link);
    $("copy-run-status").textContent = `Link copied${note}.`;
  } catch {
    $("copy-run-status").textContent = `Copy this link${note}: ${link}`;
  }
}

// --- start-up ----------------------------------------------------------------------------
function wire() {
  $("train-toggle").addEventListener("click", onTrainToggle);
  $("reset").addEventListener("click", onReset);
  $("generate").addEventListener("click", onGenerate);
  $("next-letter").addEventListener("click", () => letters.next(temperature(), app.info.config.block_size));
  $("restart-letters").addEventListener("click", () => {
    letters.reset();
    letters.show(temperature());
  });
  $("copy-run-link").addEventListener("click", onCopyRunLink);
  $("dataset-select").addEventListener("change", onDatasetChange);
  let typing = 0;
  $("dataset-text").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => showPreview($("dataset-text").value, "Your text"), 200);
  });
  $("dataset-file").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    try {
      $("dataset-text").value = await readUpload(file);
      showPreview($("dataset-text").value, file.name);
      clearError();
    } catch (error) {
      reportError(error);
    }
    event.target.value = "";
  });
  $("settings").addEventListener("input", () => {
    if (validateForm()) syncUrl(readForm(), $("dataset-select").value);
  });
  $("set-engine").addEventListener("change", () => {
    if (app.info?.trainable) {
      try {
        call("set_engine", { engine: $("set-engine").value });
      } catch (error) {
        reportError(error);
      }
    }
  });
  for (const form of ["settings", "generate-form"]) $(form).addEventListener("submit", (e) => e.preventDefault());
}

async function start() {
  const presets = loadPresets().catch((error) => {
    showError(`The dataset list could not be loaded (${error.message}); you can still paste your own names.`);
    return [];
  });
  await pythonReady();
  stopWatchdog();
  app.presets = await presets;
  wire();
  const fromUrl = settingsFromUrl();
  fillForm(call("defaults"));
  fillForm(fromUrl.settings);
  if (fromUrl.dataset !== null) {
    if (app.presets.some((p) => p.id === fromUrl.dataset)) $("dataset-select").value = fromUrl.dataset;
    else showError(`The link asks for a dataset called "${fromUrl.dataset.slice(0, 40)}", which TinyGPT does not have; using ${app.presets[0]?.title || "your own text"} instead.`);
  }
  if (!app.presets.length) $("dataset-select").value = "custom";
  finishedLoading();
  setState("ready", "Python is ready. Pick data and settings, then press Train.");
  await onDatasetChange();
  if (!validateForm()) {
    showError("This link has settings TinyGPT cannot use: see the messages next to the fields.");
  }
  app.emit("ready", app);
}
app.listeners.ready = [];

// Sharing and keeping work. On start-up the run saved in this browser comes back first,
// then a model link in the URL (if any) is opened on top of it.
installStorage(app);
installSharing(app);
installModels(app);
installInsides(app);
app.on("ready", async () => {
  await restoreSavedRun();
  await applyLinkFromUrl({ only: "model" });
});

start().catch((error) => {
  setState("error", "");
  reportError(error);
});
