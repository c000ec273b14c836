// The saved-models list: keep the model on the page under a name, then open, rename or
// delete it later (IndexedDB, via db.js: the list reads only the models' summaries, a
// model's file only when it is opened). Every control is a real button or input with a
// label naming the model it acts on, so the list works from the keyboard.
// Model records are checked as they are read (records.js); one that fails is kept aside.
import { call } from "./bridge.js";
import { $, clearError, el } from "./dom.js";
import { addModel, deleteModel, getModel, getModelFile, getRun, listModels, renameModel } from "./db.js";
import { codePoint, hiddenCharacter } from "./letters.js";
import { describeModel, openModel } from "./open-model.js";
import { MAX_MODEL_NAME_CHARS as MAX_MODEL_LABEL_CHARS, RecordError } from "./records.js";
import { keepAsideBad, setAside } from "./saved-runs.js";

let app = null;

export function installModels(theApp) {
  app = theApp;
  $("save-model").addEventListener("click", () => onSave().catch(report));
  $("back-to-run").addEventListener("click", () => onBackToRun().catch(report));
  app.on("state", updateButtons);
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

// Shown while the page holds a model opened from somewhere and this tab's run is saved.
async function updateBackToRun() {
  const button = $("back-to-run");
  const record = !app.info?.trainable && app.runId ? await getRun(app.runId).catch(() => null) : null;
  button.hidden = !record;
  if (record) button.textContent = `Back to your unfinished run (step ${record.step.toLocaleString("en")})`;
}

async function onBackToRun() {
  clearError();
  if (app.runId && (await app.openSavedRun(app.runId))) $("back-to-run").hidden = true;
}

function checkName(name) {
  const trimmed = name.trim();
  if (!trimmed) return [null, "Give the model a name."];
  if (trimmed.length > MAX_MODEL_LABEL_CHARS) return [null, `A name can be at most ${MAX_MODEL_LABEL_CHARS} characters.`];
  const hidden = hiddenCharacter(trimmed);
  if (hidden) return [null, `A name cannot contain the invisible or control character ${codePoint(hidden)}.`];
  return [trimmed, ""];
}

async function onSave() {
  clearError();
  if (!app.info) return;
  const { dataset, loss } = app.info; // Python's: the same the name card and files show
  const file = call("model_file", { meta: { source: "page", saved: new Date().toISOString() } });
  const steps = app.info.trainable ? app.info.step : file.meta?.steps ?? null;
  const summary = {
    name: `${dataset || "Model"}${Number.isInteger(steps) ? `, ${steps} steps` : ""}`.slice(0, MAX_MODEL_LABEL_CHARS),
    dataset,
    params: app.info.params,
    config: app.info.config,
    steps: Number.isInteger(steps) ? steps : null,
    loss,
    savedAt: Date.now(),
  };
  await addModel(summary, JSON.stringify(file));
  await render(`Saved "${summary.name}".`);
}

async function render(message = "") {
  let records;
  try {
    const { good, bad } = await listModels();
    records = good;
    await keepAsideBad("models", bad);
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
  let record;
  try {
    record = await getModel(id);
  } catch (error) {
    if (!(error instanceof RecordError)) throw error;
    await setAside("models", id, error, "The saved model could not be opened", "Nothing on this page was changed.");
    return render();
  }
  const text = record ? await getModelFile(id) : null;
  if (!record || typeof text !== "string") return render();
  try {
    const info = await openModel(app, { kind: "saved", text }); // Python checks it again
    $("storage-status").textContent = `Opened "${record.name}"${describeModel(info)}. Generate names with it in section 4.`;
  } catch (error) {
    if (error.kind !== "user") throw error;
    app.showError(`The saved model "${record.name}" cannot be opened: ${error.message}. Nothing on this page was changed.`);
  }
}

function startRename(li, record) {
  const inputId = `rename-${record.id}`;
  const input = el("input", { id: inputId, type: "text", value: record.name, maxLength: MAX_MODEL_LABEL_CHARS, dataset: { testid: "rename-input" } });
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
      await renameModel(record, name);
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
