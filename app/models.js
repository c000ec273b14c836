// The saved-models list: keep the model on the page under a name, then open, rename or
// delete it later (IndexedDB, via storage.js). Every control is a real button or input
// with a label naming the model it acts on, so the list works from the keyboard.
import { $, clearError, el } from "./dom.js";
import { showSamples } from "./generate.js";
import { deleteModel, getModel, listModels, loadCurrentRun, putModel, saveRunNow } from "./storage.js";

const MAX_NAME_CHARS = 60;
const HIDDEN_CHARS = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/u;

let app = null;

export function installModels(theApp) {
  app = theApp;
  $("save-model").addEventListener("click", () => onSave().catch(report));
  $("back-to-run").addEventListener("click", () => onBackToRun().catch(report));
  new MutationObserver(updateButtons).observe($("status"), { attributes: true, attributeFilter: ["data-state"] });
  app.listeners.model ??= [];
  app.on("model", updateBackToRun);
  app.on("run", updateBackToRun);
  app.on("ready", () => render().catch(() => {}));
  updateButtons();
}

function report(error) {
  app.showError(error);
}

function updateButtons() {
  $("save-model").disabled = app.state === "loading" || !app.info;
}

// Shown while the page holds a model opened from somewhere and a training run is saved.
async function updateBackToRun() {
  const button = $("back-to-run");
  if (!app.info || app.info.trainable) {
    button.hidden = true;
    return;
  }
  const state = await loadCurrentRun();
  button.hidden = !state;
  if (state) button.textContent = `Back to your unfinished run (step ${state.step.toLocaleString("en")})`;
}

async function onBackToRun() {
  clearError();
  const state = await loadCurrentRun();
  if (!state) return;
  app.showRun(app.call("restore_run", { state }));
  app.lastSamples = null;
  showSamples([]);
  $("back-to-run").hidden = true;
}

function checkName(name) {
  const trimmed = name.trim();
  if (!trimmed) return [null, "Give the model a name."];
  if (trimmed.length > MAX_NAME_CHARS) return [null, `A name can be at most ${MAX_NAME_CHARS} characters.`];
  if (HIDDEN_CHARS.test(trimmed)) return [null, "A name cannot contain control characters."];
  return [trimmed, ""];
}

function datasetTitle() {
  if (!app.info.trainable) return typeof app.info.meta?.dataset === "string" ? app.info.meta.dataset.slice(0, 80) : "";
  return app.presets.find((p) => p.id === $("dataset-select").value)?.title || "your own text";
}

function currentLoss() {
  const info = app.info;
  if (!info.trainable) return [info.meta?.val_loss, info.meta?.loss].find((x) => typeof x === "number" && Number.isFinite(x)) ?? null;
  const recent = info.losses.slice(-100);
  return recent.length ? recent.reduce((a, b) => a + b, 0) / recent.length : null;
}

async function onSave() {
  clearError();
  if (!app.info) return;
  const dataset = datasetTitle();
  const loss = currentLoss();
  const file = app.call("model_file", { meta: { dataset, loss, source: "page", saved: new Date().toISOString() } });
  const steps = app.info.trainable ? app.info.step : file.meta?.steps ?? null;
  const record = {
    name: `${dataset || "Model"}${Number.isInteger(steps) ? `, ${steps} steps` : ""}`.slice(0, MAX_NAME_CHARS),
    dataset,
    params: app.info.params,
    config: app.info.config,
    steps: Number.isInteger(steps) ? steps : null,
    loss,
    savedAt: Date.now(),
    file: JSON.stringify(file),
  };
  await putModel(record);
  await render(`Saved "${record.name}".`);
}

async function render(message = "") {
  let records;
  try {
    records = await listModels();
  } catch {
    $("saved-models").replaceChildren();
    return;
  }
  records.sort((a, b) => b.savedAt - a.savedAt);
  const list = $("saved-models");
  list.replaceChildren(...records.map(item));
  if (!records.length) list.append(el("li", { className: "muted", textContent: "No saved models yet." }));
  if (message) $("storage-status").textContent = message;
}

function summary(record) {
  const parts = [
    record.dataset || "own text",
    `${Number(record.params).toLocaleString("en")} parameters`,
    Number.isInteger(record.steps) ? `${record.steps.toLocaleString("en")} steps` : "",
    typeof record.loss === "number" ? `loss ${record.loss.toFixed(4)}` : "",
    new Date(record.savedAt).toLocaleString(),
  ];
  return parts.filter(Boolean).join(" · ");
}

function item(record) {
  const name = el("span", { className: "model-name", textContent: record.name, dataset: { testid: "saved-model-name" } });
  const open = el("button", { type: "button", textContent: "Open", "aria-label": `Open ${record.name}`, dataset: { testid: "open-saved-model" } });
  const rename = el("button", { type: "button", textContent: "Rename", "aria-label": `Rename ${record.name}`, dataset: { testid: "rename-saved-model" } });
  const remove = el("button", { type: "button", textContent: "Delete", "aria-label": `Delete ${record.name}`, dataset: { testid: "delete-saved-model" } });
  const li = el("li", { className: "saved-model", dataset: { testid: "saved-model", id: String(record.id) } },
    el("div", {}, name, el("span", { className: "muted model-summary", textContent: summary(record) })),
    el("div", { className: "row" }, open, rename, remove));
  open.addEventListener("click", () => onOpen(record.id).catch(report));
  rename.addEventListener("click", () => startRename(li, record));
  remove.addEventListener("click", () => onDelete(remove, record).catch(report));
  return li;
}

async function onOpen(id) {
  clearError();
  const record = await getModel(id);
  if (!record) return render();
  await saveRunNow(); // the run being replaced stays in storage
  const info = app.call("load_model", { text: record.file }); // Python validates it again
  app.showRun(info);
  app.lastSamples = null;
  showSamples([]);
  $("storage-status").textContent = `Opened "${record.name}". Generate names with it in section 4.`;
  app.emit("model", info);
}

function startRename(li, record) {
  const inputId = `rename-${record.id}`;
  const input = el("input", { id: inputId, type: "text", value: record.name, maxLength: MAX_NAME_CHARS, dataset: { testid: "rename-input" } });
  const error = el("span", { className: "field-error", id: `${inputId}-error`, role: "alert" });
  input.setAttribute("aria-describedby", error.id);
  const save = el("button", { type: "button", textContent: "Save name", dataset: { testid: "rename-save" } });
  const cancel = el("button", { type: "button", textContent: "Cancel" });
  const form = el("div", { className: "rename" }, el("label", { htmlFor: inputId, textContent: `New name for ${record.name}` }), input, error, el("div", { className: "row" }, save, cancel));
  const commit = async () => {
    const [name, problem] = checkName(input.value);
    error.textContent = problem;
    input.setAttribute("aria-invalid", problem ? "true" : "false");
    if (!name) return;
    try {
      await putModel({ ...record, name });
      await render(`Renamed to "${name}".`);
    } catch (e) {
      report(e);
    }
  };
  save.addEventListener("click", commit);
  cancel.addEventListener("click", () => render());
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") commit();
    if (event.key === "Escape") render();
  });
  li.replaceChildren(form);
  input.focus();
  input.select();
}

async function onDelete(button, record) {
  if (!button.dataset.confirming) {
    button.dataset.confirming = "1";
    button.textContent = "Delete? Click again";
    setTimeout(() => {
      if (button.isConnected) {
        delete button.dataset.confirming;
        button.textContent = "Delete";
      }
    }, 4000);
    return;
  }
  await deleteModel(record.id);
  await render(`Deleted "${record.name}".`);
}
