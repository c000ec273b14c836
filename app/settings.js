// The settings form and the settings in the URL. Both come from Python's settings table
// (schema.js): the form is built from it, Python checks every value (validate), and
// Python reads and writes the URL query (query_settings / settings_query), so a link
// reproduces a run: ?recipe=&steps=&batch=&lr=&seed=&engine=&n_embd=&n_head=&n_layer=
// &block_size=&val=&dataset= (only what differs from the recipe is written).
import { call } from "./bridge.js";
import { $, el } from "./dom.js";
import { recipes, schema } from "./schema.js";

const RUN = schema.settings.filter((s) => s.group === "run" && s.form);
export const GENERATE = schema.settings.filter((s) => s.group === "generate");
export const FIELDS = RUN.map((s) => s.name);
// The generation fields keep the ids other code and tests know them by.
const GENERATE_IDS = { n: "gen-n", temperature: "temperature", prefix: "gen-prefix", sample_seed: "gen-seed" };
export const inputId = (s) => (s.group === "run" ? `set-${s.name}` : GENERATE_IDS[s.name]);
const errorId = (s) => (s.group === "run" ? `err-${s.name}` : `err-${inputId(s)}`);
const input = (name) => $(inputId(schema.settings.find((s) => s.name === name)));

// --- building the forms from the table ---------------------------------------------------
function field(s) {
  const id = inputId(s);
  let control;
  if (s.choices.length) {
    control = el("select", { id, name: s.name }, ...s.choices.map((c) => el("option", { value: c, textContent: c })));
  } else {
    const numeric = s.kind !== "str";
    control = el("input", { id, name: s.name, type: numeric ? "number" : "text", autocomplete: "off", spellcheck: false });
    if (numeric) {
      control.step = s.step;
      if (s.low !== null) control.min = String(s.low);
      if (s.high !== null) control.max = String(s.high);
      control.inputMode = s.kind === "int" ? "numeric" : "decimal";
    }
  }
  const help = el("span", { id: `help-${id}`, className: "field-help", textContent: s.help });
  const error = el("span", { id: errorId(s), className: "field-error" });
  if (s.group === "run") error.dataset.testid = `error-${s.name}`;
  control.setAttribute("aria-describedby", `${error.id} ${help.id}`);
  control.dataset.testid = s.name === "temperature" ? "temperature" : id;
  control.title = s.help;
  return el("div", { className: "field" }, el("label", { htmlFor: id, textContent: s.label }), control, error, help);
}

export function buildForms() {
  $("settings").replaceChildren(...RUN.map(field));
  $("generate-form").replaceChildren(...GENERATE.map(field));
  for (const s of GENERATE) if (s.default !== null) $(inputId(s)).value = String(s.default);
  const select = $("recipe-select");
  select.replaceChildren(...schema.recipes.map((r) => el("option", { value: r.name, textContent: r.title })));
  select.value = schema.default_recipe;
  showRecipe();
}

export function showRecipe() {
  const recipe = recipes[$("recipe-select").value];
  $("recipe-expect").textContent = recipe ? recipe.expect : "";
}

export const currentRecipe = () => $("recipe-select").value || schema.default_recipe;

export function fillRecipe(name) {
  $("recipe-select").value = name;
  fillForm(recipes[name].settings);
  showRecipe();
}

// --- reading and checking ------------------------------------------------------------------
// A number typed in a field, or the raw text when it is not a number (Python then says
// what is wrong with it), or null for an empty field.
function parseValue(s, text) {
  if (s.kind === "str") return text;
  const trimmed = text.trim();
  if (trimmed === "") return null;
  const number = Number(trimmed);
  return Number.isFinite(number) ? number : trimmed;
}

export function fillForm(settings) {
  for (const s of RUN) if (s.name in settings) input(s.name).value = String(settings[s.name]);
}

export function readForm() {
  return Object.fromEntries(RUN.map((s) => [s.name, parseValue(s, input(s.name).value)]));
}

function showProblems(fields, problems) {
  for (const s of fields) {
    const message = problems[s.name] || "";
    $(errorId(s)).textContent = message;
    $(inputId(s)).setAttribute("aria-invalid", message ? "true" : "false");
  }
  return fields.every((s) => !problems[s.name]);
}

// Shows each field's problem next to it; true when all are valid.
export function validateForm() {
  const settings = readForm();
  const problems = {};
  for (const [name, value] of Object.entries(settings)) if (value === null) problems[name] = "Fill this in.";
  const given = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== null));
  Object.assign(problems, call("validate", { settings: given }));
  return showProblems(RUN, problems);
}

// The generation settings ({n, temperature, prefix, seed}), or null after showing what
// is wrong next to the fields.
export function readGenerateForm() {
  const values = Object.fromEntries(GENERATE.map((s) => [s.name, parseValue(s, $(inputId(s)).value)]));
  const problems = call("validate_generate", { values });
  if (!showProblems(GENERATE, problems)) return null;
  return { n: values.n, temperature: values.temperature, prefix: values.prefix ?? "", seed: values.sample_seed };
}

// The temperature in the field, if it is a good one (else the default).
export function temperature() {
  const value = Number($("temperature").value);
  const s = schema.settings.find((x) => x.name === "temperature");
  return Number.isFinite(value) && value >= s.low && value <= s.high ? value : s.default;
}

export function lockForm(locked) {
  for (const s of RUN) if (s.name !== "engine") input(s.name).disabled = locked; // the engine can change mid-run
  $("recipe-select").disabled = locked;
}

// --- the URL --------------------------------------------------------------------------------
// What the URL's query asks for: {recipe, settings, dataset, problems}.
export function settingsFromUrl(search = location.search) {
  const pairs = [...new URLSearchParams(search)].slice(0, 100);
  return call("query_settings", { pairs });
}

export function runUrl(settings, datasetId) {
  const dataset = datasetId && datasetId !== "custom" ? datasetId : null;
  const pairs = call("settings_query", { settings, recipe: currentRecipe(), dataset });
  const url = new URL(location.href);
  url.hash = "";
  url.search = new URLSearchParams(pairs).toString();
  return url.toString();
}

// Keep the address bar in step with the form, so reloading or bookmarking keeps the run.
export function syncUrl(settings, datasetId) {
  history.replaceState(history.state, "", runUrl(settings, datasetId) + location.hash);
}
