// Run settings: the form fields, their validation (by Python, the one source of truth),
// and the URL query that makes a link reproduce a run:
// ?steps=&engine=&seed=&lr=&n_embd=&n_head=&n_layer=&block_size=&val=&dataset=
import { call } from "./bridge.js";
import { $ } from "./dom.js";

export const FIELDS = ["steps", "lr", "seed", "engine", "n_embd", "n_head", "n_layer", "block_size", "val_fraction"];
const URL_NAMES = { val_fraction: "val" };
const urlName = (field) => URL_NAMES[field] || field;

const input = (field) => $(`set-${field}`);

// A number typed in a field, or the raw text when it is not a number (Python then
// explains what is wrong with it).
function parseValue(field, text) {
  if (field === "engine") return text;
  const trimmed = text.trim();
  if (trimmed === "") return null;
  const number = Number(trimmed);
  return Number.isFinite(number) ? number : trimmed;
}

export function fillForm(settings) {
  for (const field of FIELDS) {
    if (field in settings) input(field).value = String(settings[field]);
  }
}

export function readForm() {
  return Object.fromEntries(FIELDS.map((f) => [f, parseValue(f, input(f).value)]));
}

// Shows each field's problem next to it; returns true when all are valid.
export function validateForm() {
  const settings = readForm();
  const problems = {};
  for (const [field, value] of Object.entries(settings)) {
    if (value === null) problems[field] = "Fill this in.";
  }
  Object.assign(problems, call("validate", { settings: withoutBlanks(settings) }));
  for (const field of FIELDS) {
    const message = problems[field] || "";
    $(`err-${field}`).textContent = message;
    input(field).setAttribute("aria-invalid", message ? "true" : "false");
  }
  return Object.keys(problems).length === 0;
}

const withoutBlanks = (settings) =>
  Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== null));

export function lockForm(locked) {
  for (const field of FIELDS) {
    if (field !== "engine") input(field).disabled = locked; // the engine can change mid-run
  }
}

// Settings given in the URL, as raw values for the form (validated like typing).
export function settingsFromUrl(search = location.search) {
  const params = new URLSearchParams(search);
  const found = {};
  for (const field of FIELDS) {
    const value = params.get(urlName(field));
    if (value !== null) found[field] = value.slice(0, 40);
  }
  return { settings: found, dataset: params.get("dataset") };
}

export function runUrl(settings, datasetId) {
  const url = new URL(location.href);
  url.hash = "";
  url.search = "";
  for (const field of FIELDS) url.searchParams.set(urlName(field), String(settings[field]));
  if (datasetId && datasetId !== "custom") url.searchParams.set("dataset", datasetId);
  return url.toString();
}

// Keep the address bar in step with the form, so reloading or bookmarking keeps the run.
export function syncUrl(settings, datasetId) {
  const url = runUrl(settings, datasetId);
  history.replaceState(history.state, "", url + location.hash);
}
