// Lesson 5 figure: the next-letter probabilities after the name so far, at the chosen
// temperature, and drawing letters one at a time until the model draws the end mark.
import { el } from "../dom.js";
import { ensureDataset } from "./datasets.js";
import { debounce, latest, say, showChar } from "./figure-util.js";

const DATASET = "first_names";
const SHOWN = 12; // bars

export function setupSampling(py) {
  const fig = document.getElementById("fig-sampling");
  const slider = fig.querySelector("#sampling-temperature");
  const shown = fig.querySelector("#sampling-temperature-value");
  const context = fig.querySelector("#sampling-context");
  const stepButton = fig.querySelector("#sampling-step");
  const clear = fig.querySelector("#sampling-clear");
  const message = fig.querySelector("[data-testid=sampling-message]");
  const source = fig.querySelector("[data-testid=sampling-source]");
  const bars = fig.querySelector("[data-testid=prob-bars]");
  let seed = 1; // each draw uses the next seed: reproducible, yet not the same letter each time
  let ended = false;

  const temperature = () => Number(slider.value);

  const update = latest(async (isCurrent) => {
    shown.textContent = temperature().toFixed(1);
    let answer;
    try {
      if (!fig.dataset.ready) say(message, "Training a small model for the figure (a few seconds)…");
      await ensureDataset(py, DATASET);
      answer = await py.call("next_probs", { dataset: DATASET, context: context.value, temperature: temperature() });
    } catch (error) {
      if (isCurrent()) say(message, error.message, "error");
      return;
    }
    if (!isCurrent()) return;
    say(source, `Model: ${answer.source}.`);
    if (!ended) say(message, context.value ? `After "${context.value}":` : "The first letter of a name:");
    const top = answer.probs.slice(0, SHOWN);
    bars.replaceChildren(...top.map(([ch, p]) => {
      const fill = el("span", { className: "fill" });
      fill.style.width = `${(100 * p).toFixed(1)}%`;
      return el("li", { dataset: { p: p.toFixed(6) } },
        el("span", { className: "ch", textContent: showChar(ch) }),
        el("span", { className: "meter" }, fill),
        el("span", { className: "p", textContent: `${(100 * p).toFixed(1)}%` }));
    }));
    fig.dataset.ready = "true";
  });

  async function drawNext() {
    if (ended) return;
    stepButton.disabled = true;
    try {
      const answer = await py.call("draw", { dataset: DATASET, context: context.value, temperature: temperature(), seed: seed++ });
      if (answer.ch === "") {
        ended = true;
        say(message, `The model drew the end mark: "${context.value}" is finished. Press "Start over" for another name.`);
      } else {
        context.value += answer.ch;
        if (answer.full) {
          ended = true;
          say(message, `The block is full: "${context.value}" ends here.`);
        }
        await update();
      }
    } catch (error) {
      say(message, error.message, "error");
    } finally {
      stepButton.disabled = ended;
    }
  }

  slider.addEventListener("input", debounce(update, 60));
  context.addEventListener("input", debounce(() => {
    ended = false;
    stepButton.disabled = false;
    update();
  }));
  stepButton.addEventListener("click", drawNext);
  clear.addEventListener("click", () => {
    context.value = "";
    ended = false;
    stepButton.disabled = false;
    update();
  });
  update();
}
