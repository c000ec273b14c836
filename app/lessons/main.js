// The lessons page: routing and progress, code cells in one Python worker, and the
// interactive figures in a second one (so stopping a runaway cell leaves them working).
import { registerServiceWorker } from "../offline.js";
import { setupCells } from "./cells.js";
import { setupTrainMine } from "./exercise-train.js";
import { setupExercises } from "./exercises.js";
import { setupAttention } from "./fig-attention.js";
import { setupAutograd } from "./fig-autograd.js";
import { setupOverfit } from "./fig-overfit.js";
import { setupSampling } from "./fig-sampling.js";
import { setupTokens } from "./fig-tokens.js";
import { setupTraining } from "./fig-training.js";
import { markCompleted } from "./progress.js";
import { PythonWorker } from "./python.js";
import { startRouter } from "./router.js";

window.dispatchEvent(new CustomEvent("tinygpt:module-ran", { detail: import.meta.url })); // app/watchdog.js
registerServiceWorker();
const cellsPython = new PythonWorker("cells");
const figuresPython = new PythonWorker("figures");

const status = document.querySelector("[data-testid=python-status]");
const STATE_TEXT = {
  loading: "Python is starting…",
  ready: "Python is ready.",
  failed: "Python could not start: reload the page.",
};
function showState() {
  const states = [cellsPython.state, figuresPython.state];
  const state = states.includes("failed") ? "failed" : states.includes("loading") ? "loading" : "ready";
  status.dataset.state = state;
  status.textContent = STATE_TEXT[state];
}
cellsPython.onState(showState);
figuresPython.onState(showState);

setupCells(document, cellsPython, markCompleted);
// Exercises are checked in the cells' worker: Stop ends a check as it ends a cell.
let trainMine = null;
const exercises = setupExercises(document, cellsPython, (exercise, state) => {
  if (state === "passed") markCompleted(exercise.lesson);
  trainMine?.refresh();
});
trainMine = setupTrainMine(cellsPython, exercises);

// Each figure starts the first time its lesson is shown.
const figures = {
  tokens: setupTokens,
  autograd: setupAutograd,
  attention: setupAttention,
  training: setupTraining,
  sampling: setupSampling,
  build: setupOverfit,
};
const started = new Set();
startRouter((id) => {
  // Editors created in a hidden view measured nothing; measure again now it shows.
  exercises.show(id);
  for (const box of document.querySelectorAll(`[data-view="${id}"] [data-testid=code-cell]`)) {
    box.editor?.requestMeasure();
  }
  if (figures[id] && !started.has(id)) {
    started.add(id);
    figures[id](figuresPython);
  }
});
