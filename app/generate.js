// Generating: a list of names at a temperature, and one name letter by letter with the
// model's next-letter probabilities drawn as bars, so people see why a letter came.
import { call } from "./bridge.js";
import { $, el } from "./dom.js";

const BARS = 12;
const END = "↵"; // how the end mark (BOS) is shown

function readNumber(id, errId, { min, max, integer = false, optional = false, label }) {
  const text = $(id).value.trim();
  const err = $(errId);
  let message = "";
  let value = null;
  if (text === "") {
    if (!optional) message = `Fill in ${label}.`;
  } else {
    value = Number(text);
    if (!Number.isFinite(value)) message = `${label} must be a number.`;
    else if (integer && !Number.isInteger(value)) message = `${label} must be a whole number.`;
    else if (value < min || value > max) message = `${label} must be between ${min} and ${max}.`;
  }
  err.textContent = message;
  $(id).setAttribute("aria-invalid", message ? "true" : "false");
  return message ? undefined : value;
}

export function readGenerateForm() {
  const n = readNumber("gen-n", "err-gen-n", { min: 1, max: 100, integer: true, label: "How many" });
  const temperature = readNumber("temperature", "err-temperature", { min: 0.01, max: 10, label: "The temperature" });
  const seed = readNumber("gen-seed", "err-gen-seed", { min: 0, max: 2 ** 32 - 1, integer: true, optional: true, label: "The seed" });
  const prefix = $("gen-prefix").value;
  if ([n, temperature, seed].includes(undefined)) return null;
  return { n, temperature, prefix, seed };
}

export function showSamples(names) {
  $("samples").replaceChildren(
    ...names.map((name) => el("li", { textContent: name || "(empty)", dataset: { testid: "sample" } })),
  );
}

// One generation, letter by letter.
export class LetterStepper {
  constructor(onError) {
    this.onError = onError;
    this.reset();
  }

  reset() {
    this.context = "";
    this.finished = false;
    this.probs = null;
    $("letters-so-far").textContent = "";
    $("prob-bars").replaceChildren();
  }

  // The distribution of the next letter after the current context.
  show(temperature) {
    try {
      this.probs = call("next_probs", { context: this.context, temperature });
    } catch (error) {
      this.onError(error);
      return;
    }
    this.drawBars(null);
  }

  next(temperature, blockSize) {
    if (this.finished) return;
    if (!this.probs) this.show(temperature);
    if (!this.probs) return;
    const chosen = draw(this.probs);
    this.drawBars(chosen);
    if (chosen === "" || this.context.length + 1 >= blockSize) {
      this.finished = true;
      $("letters-so-far").textContent = `${this.context}${chosen} (end)`;
      this.probs = null;
      return;
    }
    this.context += chosen;
    $("letters-so-far").textContent = this.context;
    const before = this.probs;
    this.show(temperature);
    if (this.probs) this.drawBars(null, before, chosen);
  }

  drawBars(chosen, previous = null, previousChoice = null) {
    const top = this.probs.slice(0, BARS);
    $("prob-bars").replaceChildren(
      ...top.map(([ch, p]) => {
        const label = ch === "" ? END : ch === " " ? "␣" : ch;
        const item = el("li", { className: ch === chosen ? "bar chosen" : "bar" });
        item.append(
          el("span", { className: "bar-label", textContent: label }),
          el("span", { className: "bar-track" }, el("span", { className: "bar-fill", style: `width:${(p * 100).toFixed(1)}%` })),
          el("span", { className: "bar-value", textContent: `${(p * 100).toFixed(1)}%` }),
        );
        return item;
      }),
    );
    if (previous && previousChoice !== null) {
      const p = previous.find(([ch]) => ch === previousChoice)?.[1] ?? 0;
      $("prob-bars").setAttribute("aria-description", `Chose "${previousChoice}" with probability ${(p * 100).toFixed(1)}%.`);
    }
  }
}

function draw(probs) {
  let r = Math.random();
  for (const [ch, p] of probs) {
    r -= p;
    if (r <= 0) return ch;
  }
  return probs[probs.length - 1][0];
}
