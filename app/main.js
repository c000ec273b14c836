// Wiring: connects the page's controls to Python through the bridge, and moves the page
// between its states (app-state.js). Each concern lives in its own module: settings,
// training loop, chart, generating and live names, sharing, saved models, autosave,
// history.
import { app } from "./app-state.js";
import { installAutosave, restoreSavedRun, saveRunNow } from "./autosave.js";
import { call, pythonReady } from "./bridge.js";
import { showStartupProgress, startupWatchdog } from "./boot.js";
import { LossChart } from "./chart.js";
import { datasetText, loadPresets, readUpload, showPreview } from "./datasets.js";
import { $, clearError, formatLoss, setText } from "./dom.js";
import { Generator, LetterStepper, installLive, showSamples } from "./generate.js";
import { installHistory } from "./history.js";
import { installInsides } from "./insides.js";
import { BUDGET_MS, RateMeter, trainingLoop, warmUpLoop } from "./loop.js";
import { installModels } from "./models.js";
import { registerServiceWorker } from "./offline.js";
import { installSavedRuns } from "./saved-runs.js";
import {
  buildForms, currentRecipe, fillForm, fillRecipe, limits, lockForm, readForm, runUrl, settingsFromUrl,
  showRecipe, syncUrl, validateForm,
} from "./settings.js";
import { applyLinkFromUrl, installSharing } from "./share.js";

window.dispatchEvent(new CustomEvent("tinygpt:module-ran", { detail: import.meta.url })); // app/watchdog.js
const finishedLoading = showStartupProgress();
const stopWatchdog = startupWatchdog();
registerServiceWorker();
buildForms(); // from the settings table: the form is there before Python is

const chart = new LossChart($("loss-chart"));
const rate = new RateMeter();
const loop = trainingLoop({ onFrame, onDone, onError: onTrainingError });
let generator = null;
let letters = null;
let trainingSince = null; // when training last started (for the run's training time)

function setState(state, text = "") {
  if (app.state === "training" && state !== "training" && trainingSince !== null) {
    app.trainedMs = (app.trainedMs || 0) + (performance.now() - trainingSince);
    trainingSince = null;
  }
  if (state === "training") trainingSince = performance.now();
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
  app.emit("state", { state, text });
}

// --- data ----------------------------------------------------------------------------
function currentPreset() {
  return app.presets.find((p) => p.id === $("dataset-select").value) || null;
}

async function currentText() {
  const preset = currentPreset();
  return preset ? datasetText(preset.id) : $("dataset-text").value;
}

async function onDatasetChange() {
  clearError();
  const preset = currentPreset();
  $("custom-data").open = !preset;
  try {
    if (preset) showPreview(await datasetText(preset.id), preset.title);
    else showPreview($("dataset-text").value, "Your text");
  } catch (error) {
    app.showError(error);
  }
  onSettingsChange();
}

function onSettingsChange() {
  if (validateForm()) syncUrl(readForm(), $("dataset-select").value);
  app.emit("settings");
}

// --- training --------------------------------------------------------------------------
let buildingRun = false; // a new run is being built, over several tasks

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
    app.showError("Some settings need fixing first: see the messages next to the fields.");
    return;
  }
  if (buildingRun) return; // a second click while the first one's run is being built
  buildingRun = true;
  try {
    await buildRun();
  } finally {
    buildingRun = false;
  }
}

async function buildRun() {
  const preset = currentPreset();
  const dataset = { id: preset?.id ?? "custom", title: preset?.title ?? "your own text" };
  try {
    const text = await currentText();
    await beforeReplace();
    // A run is built in short tasks (checks; shuffle and weights, a few rows at a time;
    // making it current), and so is what comes before and after: built in one task, a
    // run can take over 50 ms on a busy machine, a long task.
    const settings = readForm();
    await nextTask();
    call("begin_run", { text, settings, dataset: dataset.title });
    do await nextTask();
    while (!call("build_run", { budget_ms: BUDGET_MS }).done);
    await nextTask();
    app.info = withoutLossHistory(call("finish_run"));
  } catch (error) {
    app.showError(error);
    return;
  }
  await nextTask();
  app.dataset = dataset;
  chart.reset();
  chart.draw(true);
  letters.reset();
  app.emit("run", app.info);
  startLoop();
}

function nextTask() {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function startLoop() {
  rate.reset();
  setState("training", "Training…");
  $("step-total").textContent = String(app.info.steps);
  loop.start();
}

function onFrame(result) {
  chart.add(result.losses, result.val_points);
  chart.draw(result.done);
  rate.add(result.losses.length);
  Object.assign(app.info, { step: result.step, done: result.done, loss: result.loss });
  showProgress();
  app.emit("step", result);
  if (result.live) app.emit("live", result.live);
}

function showProgress() {
  const { step, steps } = app.info;
  $("step-count").textContent = String(step);
  $("step-total").textContent = String(steps);
  $("train-progress").value = steps ? step / steps : 0;
  showLoss();
  const perSecond = rate.rate;
  const batch = app.info.settings?.batch ?? 1;
  $("steps-per-second").textContent = perSecond ? perSecond.toFixed(0) : "–";
  $("names-per-second").textContent = perSecond ? (perSecond * batch).toFixed(0) : "–";
  $("time-left").textContent = perSecond ? `${Math.ceil((steps - step) / perSecond)} s` : "–";
}

// "The loss" is Python's headline loss (Session.info / train_for `loss`): the newest
// validation loss when names are held out, else the mean of the last HEADLINE_STEPS
// training losses (tinygpt.session.HEADLINE_STEPS; a browser test holds the two to the
// same number). Its label says which; the chart draws each step's loss and a moving
// average of it, labelled as such.
const HEADLINE_STEPS = 100;

function showLoss() {
  const info = app.info;
  const { valPoints } = chart.history;
  let label = "Loss";
  if (info?.trainable) {
    label = valPoints.length ? "Loss (held-out names, newest)" : `Loss (mean of the last ${Math.min(info.step, HEADLINE_STEPS)} steps)`;
  } else if (info) {
    label = "Loss (as the model's file says)";
  }
  setText($("loss-label"), label);
  setText($("loss-value"), formatLoss(info?.loss ?? NaN));
  const newest = valPoints.at(-1);
  setText($("val-loss-value"), newest ? formatLoss(newest[1]) : "–");
}

function onDone() {
  setState("done", `Finished ${app.info.steps} steps. Generate names below, or share them.`);
  $("time-left").textContent = "0 s";
}

function onTrainingError(error) {
  setState("error", "Training stopped.");
  app.showError(error);
}

// Redraws everything from a run Python restored (a reload, "Back to your run", another
// tab's run) or a model it opened. `from`: the run's dataset and text, for the form.
function showRun(info, from = {}) {
  loop.stop({ discard: true }); // the run being trained, if any, is no longer Python's
  generator.cancel("");
  chart.reset();
  if (info.trainable) chart.add(info.losses, info.val_points);
  app.info = withoutLossHistory(info);
  if (info.trainable) {
    fillForm(info.settings);
    const select = $("dataset-select");
    if (from.dataset && [...select.options].some((o) => o.value === from.dataset)) select.value = from.dataset;
    if (select.value === "custom" && typeof from.text === "string") $("dataset-text").value = from.text;
  }
  chart.draw(true);
  rate.reset();
  letters.reset();
  app.lastSamples = null;
  showSamples([]);
  if (info.trainable) showProgress();
  else resetReadouts();
  const state = !info.trainable || info.done ? "done" : info.step > 0 ? "paused" : "ready";
  setState(state, info.trainable ? "Run restored. Resume to keep training." : "Model loaded: generate names below.");
  app.emit(info.trainable ? "run" : "model", info);
}

// Python's info without the run's loss history, which the chart keeps (the one copy).
function withoutLossHistory(info) {
  if (!info) return info;
  const rest = { ...info };
  delete rest.losses;
  delete rest.val_points;
  return rest;
}

// Before a run or a model replaces what is on the page: stop, and save the run.
async function beforeReplace() {
  if (app.state === "training") {
    loop.stop();
    setState("paused", "Paused.");
  }
  await saveRunNow();
}

function resetReadouts() {
  for (const id of ["steps-per-second", "names-per-second", "time-left"]) $(id).textContent = "–";
  showLoss();
  $("step-count").textContent = "0";
  $("step-total").textContent = "0";
  $("train-progress").value = 0;
}

// Empties the page and Python's session (the run's record is autosave.js's business).
function clearPage() {
  loop.stop({ discard: true });
  generator.cancel("");
  call("discard");
  app.info = null;
  chart.reset();
  chart.draw(true);
  letters.reset();
  showSamples([]);
  resetReadouts();
}

// The run went to another tab (autosave.js): the page is empty again, nothing deleted.
function moveAway() {
  clearPage();
  setState("ready", "This run is open in another tab now.");
}

app.provide({
  showRun,
  showModel: (info) => showRun(info),
  beforeReplace,
  moveAway,
  readSettings: readForm,
  lossHistory: () => chart.history,
});

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
  const wasRun = app.info?.trainable;
  clearPage();
  clearError();
  if (wasRun) app.emit("run", null); // this tab's run is forgotten (its history stays)
  setState("ready", "Pick data and settings, then press Train.");
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
  $("copy-run-link").addEventListener("click", onCopyRunLink);
  $("dataset-select").addEventListener("change", onDatasetChange);
  $("recipe-select").addEventListener("change", () => {
    fillRecipe(currentRecipe());
    onSettingsChange();
  });
  let typing = 0;
  $("dataset-text").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => showPreview($("dataset-text").value, "Your text"), 200);
  });
  $("dataset-file").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    try {
      $("dataset-text").value = await readUpload(file, limits.max_text_chars);
      showPreview($("dataset-text").value, file.name);
      clearError();
    } catch (error) {
      app.showError(error); // a user error: the message, never a stack trace
    }
    event.target.value = "";
  });
  $("settings").addEventListener("input", onSettingsChange);
  $("set-engine").addEventListener("change", () => {
    if (app.info?.trainable) {
      try {
        call("set_engine", { engine: $("set-engine").value });
        app.info.settings.engine = $("set-engine").value;
      } catch (error) {
        $("set-engine").value = app.info.settings.engine; // refused: the run keeps its engine
        app.showError(error);
      }
    }
  });
  for (const form of ["settings", "generate-form"]) $(form).addEventListener("submit", (e) => e.preventDefault());
}

async function start() {
  const presets = loadPresets().catch((error) => {
    app.showError(`The dataset list could not be loaded (${error.message}); you can still paste your own names.`);
    return [];
  });
  await pythonReady();
  stopWatchdog();
  app.presets = await presets;
  generator = new Generator(app);
  letters = new LetterStepper(app);
  wire();
  const fromUrl = settingsFromUrl();
  fillRecipe(fromUrl.recipe);
  fillForm(fromUrl.settings);
  showRecipe();
  const problems = []; // what is wrong with the link, shown once the page is ready
  if (fromUrl.dataset !== null) {
    if (app.presets.some((p) => p.id === fromUrl.dataset)) $("dataset-select").value = fromUrl.dataset;
    else problems.push(`The link asks for a dataset called "${fromUrl.dataset.slice(0, 40)}", which TinyGPT does not have; using ${app.presets[0]?.title || "your own text"} instead.`);
  }
  if (!app.presets.length) $("dataset-select").value = "custom";
  finishedLoading();
  await onDatasetChange();
  if (fromUrl.problems.recipe) problems.push(fromUrl.problems.recipe);
  if (!validateForm()) problems.push("This link has settings TinyGPT cannot use: see the messages next to the fields.");
  if (problems.length) app.showError(problems.join(" "));
  setState("ready", "Python is ready. Pick data and settings, then press Train.");
  app.emit("ready", app);
}

// Keeping and sharing work. On start-up the run saved in this browser comes back first,
// then a model link in the URL (if any) is opened on top of it.
installAutosave(app);
installHistory(app, chart);
installLive(app);
installSharing(app);
installModels(app);
installSavedRuns(app);
installInsides(app);
app.on("ready", async () => {
  warmUpLoop().start();
  const restored = await restoreSavedRun();
  await applyLinkFromUrl({ only: "model" });
  // Start-up's restoring is over: the status says whether a saved run came back (tests
  // wait for this instead of a pause long enough for a restore).
  $("status").dataset.restored = restored ? "run" : "none";
});

start().catch((error) => {
  setState("error", "");
  app.showError(error);
});
