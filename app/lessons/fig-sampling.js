// Lesson 5 figure: the next-letter probabilities after the name so far, at the chosen
// temperature, and drawing letters one at a time until the name ends where
// Model.sample would end it (the end mark, or the most letters the model writes).
import { spokenLetter } from "../letters.js";
import { renderProbBars } from "../probbars.js";
import { ensureDataset } from "../datasets.js";
import { debounce, latest, say } from "./figure-util.js";

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
  let probs = null; // the bars on show

  const temperature = () => Number(slider.value);

  // The model decides how long a name may get: the field holds at most one letter less
  // (the name so far, before the next letter is drawn).
  function setMaxLength(maxNameLength) {
    context.maxLength = maxNameLength - 1;
    fig.dataset.maxNameLength = String(maxNameLength);
  }

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
    setMaxLength(answer.max_name_length);
    say(source, `Model: ${answer.source}. It writes names of up to ${answer.max_name_length} letters (its block_size).`);
    say(message, context.value ? `After "${context.value}":` : "The first letter of a name:");
    probs = answer.probs;
    renderProbBars(bars, probs, { top: SHOWN });
    fig.dataset.ready = "true";
  });

  async function drawNext() {
    if (ended) return;
    stepButton.disabled = true;
    try {
      const before = context.value;
      const answer = await py.call("draw", { dataset: DATASET, context: before, temperature: temperature(), seed: seed++ });
      const drawn = `drew ${spokenLetter(answer.ch)} (${(100 * answer.p).toFixed(1)}%)`;
      if (answer.ends) {
        ended = true;
        context.value = before + answer.ch;
        if (probs) renderProbBars(bars, probs, { top: SHOWN, chosen: answer.ch });
        say(message, answer.ch === ""
          ? `The model ${drawn}: "${before}" is finished. Press "Start over" for another name.`
          : `The model ${drawn}: "${context.value}" has ${answer.max_name_length} letters, the most this model writes, so it ends here.`);
      } else {
        context.value = before + answer.ch;
        await update();
        say(message, `The model ${drawn}. After "${context.value}":`);
      }
    } catch (error) {
      say(message, error.message, "error");
    } finally {
      stepButton.disabled = ended;
    }
  }

  function restart() {
    ended = false;
    stepButton.disabled = false;
    update();
  }

  slider.addEventListener("input", debounce(() => {
    if (!ended) update();
    else shown.textContent = temperature().toFixed(1);
  }, 60));
  context.addEventListener("input", debounce(restart));
  stepButton.addEventListener("click", drawNext);
  clear.addEventListener("click", () => {
    context.value = "";
    restart();
  });
  update();
}
