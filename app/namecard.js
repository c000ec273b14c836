// The name card: what a "names" link carries (the names, the dataset, the model's size,
// steps and loss), checked field by field, shown as a card page, and drawn as a PNG.
// Everything in a card comes from a stranger's link, so it is validated here and only
// ever set as text (textContent, canvas fillText), never parsed as HTML.
import { $, el } from "./dom.js";
import { LinkError } from "./linkcodec.js";
import { limits, setting } from "./settings.js";
import { codePoint, hiddenCharacter } from "./letters.js";

export const CARD_VERSION = 1;
export const MAX_NAMES = setting.n.high; // what Generate makes at most
export const MAX_NAME_CHARS = setting.block_size.high; // a name has at most block_size letters
export const MAX_CARD_BYTES = 64_000;
const MAX_LABEL_CHARS = 80;

function fail(message) {
  throw new LinkError(message);
}

function checkText(value, what, max) {
  if (typeof value !== "string") fail(`${what} is not text`);
  if (value.length > max) fail(`${what} is ${value.length.toLocaleString("en")} characters long; the limit is ${max}`);
  const hidden = hiddenCharacter(value);
  if (hidden) fail(`${what} contains the invisible or control character ${codePoint(hidden)}`);
  return value;
}

function checkNumber(value, what, { min, max, integer = false, optional = false }) {
  if (optional && value === null) return null;
  if (typeof value !== "number" || !Number.isFinite(value)) fail(`${what} is not a finite number`);
  if (integer && !Number.isInteger(value)) fail(`${what} is not a whole number`);
  if (value < min || value > max) fail(`${what} is out of range`);
  return value;
}

// A card from parsed JSON, or a LinkError naming the first thing wrong with it.
export function validateCard(data) {
  if (!data || typeof data !== "object" || Array.isArray(data)) fail("it does not hold a name card");
  if (data.v !== CARD_VERSION) fail(`it comes from another version of TinyGPT (card version ${String(data.v).slice(0, 10)})`);
  const names = data.names;
  if (!Array.isArray(names) || names.length === 0) fail("it holds no names");
  if (names.length > MAX_NAMES) fail(`it holds ${names.length} names; the limit is ${MAX_NAMES}`);
  names.forEach((name, i) => checkText(name, `name ${i + 1}`, MAX_NAME_CHARS));
  const config = data.config;
  if (!config || typeof config !== "object") fail("it does not say how big the model is");
  const size = {};
  for (const key of ["n_embd", "n_head", "n_layer", "block_size"]) {
    size[key] = checkNumber(config[key], `the model's ${key}`, { min: setting[key].low, max: setting[key].high, integer: true });
  }
  return {
    names: [...names],
    dataset: checkText(data.dataset, "the dataset's name", MAX_LABEL_CHARS),
    config: size,
    params: checkNumber(data.params, "the parameter count", { min: 1, max: limits.max_params, integer: true }),
    steps: checkNumber(data.steps, "the step count", { min: 0, max: setting.steps.high, integer: true, optional: true }),
    loss: checkNumber(data.loss, "the loss", { min: 0, max: 1000, optional: true }),
    temperature: checkNumber(data.temperature, "the temperature", { min: setting.temperature.low, max: setting.temperature.high, optional: true }),
  };
}

export function parseCard(bytes) {
  let data;
  try {
    data = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    fail("its contents are damaged (not valid JSON text)");
  }
  return validateCard(data);
}

export function cardBytes(card) {
  return new TextEncoder().encode(JSON.stringify({ v: CARD_VERSION, ...card }));
}

function describeShape(card) {
  const { n_layer, n_embd, n_head, block_size } = card.config;
  return `${n_layer} layer${n_layer === 1 ? "" : "s"}, ${n_embd} wide, ${n_head} head${n_head === 1 ? "" : "s"}, context ${block_size}`;
}

function facts(card) {
  return [
    ["Dataset", card.dataset || "their own text"],
    ["Model", `${card.params.toLocaleString("en")} parameters`],
    ["Shape", describeShape(card)],
    ["Training steps", card.steps === null ? "–" : card.steps.toLocaleString("en")],
    ["Loss", card.loss === null ? "–" : card.loss.toFixed(4)],
    ...(card.temperature === null ? [] : [["Temperature", String(card.temperature)]]),
  ];
}

// --- the card page -------------------------------------------------------------------
// A view over the playground: body.card-view hides the playground (CSS) and shows this.
export function showCardView(card, { onTrainOwn, onSaveImage }) {
  $("name-card-view")?.remove();
  const list = el("ol", { className: "card-names", dataset: { testid: "card-names" } },
    ...card.names.map((name) => el("li", { textContent: name || "(empty)", dataset: { testid: "card-name" } })));
  const details = el("dl", { className: "card-facts", dataset: { testid: "card-facts" } });
  for (const [term, value] of facts(card)) details.append(el("div", {}, el("dt", { textContent: term }), el("dd", { textContent: value })));
  const save = el("button", { type: "button", textContent: "Save as image", dataset: { testid: "card-save-image" } });
  const own = el("button", { type: "button", className: "primary", textContent: "Train your own", dataset: { testid: "train-your-own" } });
  save.addEventListener("click", () => onSaveImage(card));
  own.addEventListener("click", onTrainOwn);
  const view = el("section", { id: "name-card-view", className: "name-card-view", dataset: { testid: "name-card" }, "aria-labelledby": "name-card-heading" },
    el("div", { className: "name-card" },
      el("p", { className: "card-kicker", textContent: "Names invented by a tiny GPT" }),
      el("h2", { id: "name-card-heading", tabIndex: -1, textContent: `${card.names.length} names it made up, trained on ${card.dataset || "their own text"}` }),
      list, details),
    el("p", { className: "row" }, own, save),
    el("p", { className: "muted", textContent: "This model was trained in a web browser, in Python, in a few seconds. Press “Train your own” to try it: nothing to install." }));
  document.body.classList.add("card-view");
  $("playground").before(view);
  $("name-card-heading").focus();
}

export function hideCardView() {
  document.body.classList.remove("card-view");
  $("name-card-view")?.remove();
}

// --- the card as a picture -------------------------------------------------------------
const W = 1200;
const H = 630;

function fitText(ctx, text, width) {
  if (ctx.measureText(text).width <= width) return text;
  let cut = text;
  while (cut && ctx.measureText(`${cut}…`).width > width) cut = cut.slice(0, -1);
  return `${cut}…`;
}

export function drawCard(card) {
  const canvas = document.createElement("canvas");
  canvas.width = W;
  canvas.height = H;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fbfaf7";
  ctx.fillRect(0, 0, W, H);
  ctx.fillStyle = "#2456c8";
  ctx.fillRect(0, 0, W, 12);
  ctx.fillStyle = "#1d1d1f";
  ctx.font = "bold 40px system-ui, sans-serif";
  ctx.fillText(fitText(ctx, `Names a tiny GPT invented · ${card.dataset || "own text"}`, W - 120), 60, 84);
  const shown = card.names.slice(0, 24);
  const columns = shown.length > 12 ? 3 : shown.length > 6 ? 2 : 1;
  const perColumn = Math.ceil(shown.length / columns);
  const columnWidth = (W - 120) / columns;
  const lineHeight = Math.min(56, 330 / perColumn); // fewer names, bigger letters
  ctx.font = `${Math.round(lineHeight * 0.8)}px ui-monospace, monospace`;
  shown.forEach((name, i) => {
    const x = 60 + Math.floor(i / perColumn) * columnWidth;
    const y = 150 + lineHeight * 0.6 + (i % perColumn) * lineHeight;
    ctx.fillText(fitText(ctx, name || "(empty)", columnWidth - 24), x, y);
  });
  ctx.fillStyle = "#5b5b66";
  ctx.font = "24px system-ui, sans-serif";
  const line = facts(card).filter(([term]) => !["Dataset", "Shape"].includes(term)).map(([term, value]) => `${term}: ${value}`).join(" · ");
  ctx.fillText(fitText(ctx, line, W - 120), 60, H - 70);
  ctx.fillText("TinyGPT: train a tiny GPT in your browser, in Python", 60, H - 34);
  return canvas;
}

export function cardImage(card) {
  return new Promise((resolve, reject) => {
    drawCard(card).toBlob((blob) => (blob ? resolve(blob) : reject(new Error("The image could not be drawn."))), "image/png");
  });
}
