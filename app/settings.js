// The settings: Python's table of them, the form built from it, and the settings in the
// URL. The table, the recipes and the page's limits are tinygpt.settings' and
// tinygpt.session.limits', written into the site as schema.json at build time (`python -m
// tinygpt schema`), so the form, the links and the name card have them before Python has
// started, and no JavaScript keeps a copy of a limit. Python checks every value
// (validate); a link's query is read by Python (query_settings) and written here from the
// same table (runQuery, as tinygpt.settings.to_query writes it), so a link reproduces a
// run: ?recipe=&steps=&batch=&lr=&seed=&engine=&n_embd=&n_head=&n_layer=&block_size=
// &val=&beta1=&beta2=&dataset= (only what differs from the recipe is written).
// (A JSON module, not a top-level await of fetch: the page's module graph then runs in one
// go, and its load event means it has run, as app/watchdog.js relies on.)
import schemaJson from "../schema.json" with { type: "json" };
import { call } from "./bridge.js";
import { $, el } from "./dom.js";

export const schema = schemaJson;
export const limits = schema.limits;
export const setting = Object.fromEntries(schema.settings.map((s) => [s.name, s]));
export const recipes = Object.fromEntries(schema.recipes.map((r) => [r.name, r]));

const RUN = schema.settings.filter((s) => s.group === "run" && s.form);
export const GENERATE = schema.settings.filter((s) => s.group === "generate");
// The generation fields keep the ids other code and tests know them by.
const GENERATE_IDS = { n: "gen-n", temperature: "temperature", prefix: "gen-prefix", sample_seed: "gen-seed" };
export const inputId = (s) => (s.group === "run" ? `set-${s.name}` : GENERATE_IDS[s.name]);
const errorId = (s) => (s.group === "run" ? `err-${s.name}` : `err-${inputId(s)}`);
const input = (name) => $(inputId(setting[name]));

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
  const s = setting.temperature;
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
  const url = new URL(location.href);
  url.hash = "";
  url.search = new URLSearchParams(runQuery(settings, currentRecipe(), dataset)).toString();
  return url.toString();
}

// [[key, value]] for a link: the recipe, then every setting that differs from it, then
// the dataset: what tinygpt.settings.to_query gives for these settings sent to it as JSON
// (a browser test compares the two on many settings). `settings` are readForm's: numbers,
// or the text typed where it is not a number, or null for an empty field.
export function runQuery(settings, recipe = schema.default_recipe, dataset = null) {
  const base = recipes[recipe].settings;
  const pairs = recipe === schema.default_recipe ? [] : [["recipe", recipe]];
  for (const s of schema.settings) {
    if (s.group !== "run" || !s.url || !(s.name in settings) || settings[s.name] === undefined) continue;
    if (!pythonEqual(settings[s.name], base[s.name])) pairs.push([s.url, pythonText(settings[s.name])]);
  }
  if (dataset) pairs.push(["dataset", dataset]);
  return pairs;
}

// Python's == on the values as JSON brings them: true == 1, and NaN and the infinities
// arrive as None.
function pythonEqual(a, b) {
  const asPython = (v) => (typeof v === "number" && !Number.isFinite(v) ? null : typeof v === "boolean" ? Number(v) : v);
  return asPython(a) === asPython(b);
}

// How Python's str() writes a value that came to it through JSON.stringify: a whole
// number below 1e21 arrives as an int (plain digits); other numbers as floats, which
// Python writes in the shortest form that reads back exactly (as JavaScript does) but
// with an exponent below 1e-4 and from 1e16 ("1e-05", "1.5e+16"), JavaScript only below
// 1e-6 and from 1e21 ("0.00001", "1e-7"); not-a-number arrives as None.
function pythonText(value) {
  if (value === null || (typeof value === "number" && !Number.isFinite(value))) return "None";
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value !== "number") return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e21) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-4 && magnitude < 1e16) return String(value);
  const [digits, exponent] = value.toExponential().split("e");
  const power = Number(exponent);
  return `${digits}e${power < 0 ? "-" : "+"}${String(Math.abs(power)).padStart(2, "0")}`;
}

// Keep the address bar in step with the form, so reloading or bookmarking keeps the run.
export function syncUrl(settings, datasetId) {
  history.replaceState(history.state, "", runUrl(settings, datasetId) + location.hash);
}
