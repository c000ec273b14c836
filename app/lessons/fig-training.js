// Lesson 4 figure: training one step at a time (loss, each matrix's gradient and update
// size), and a live race of the two engines on the same run.
import { el } from "../dom.js";
import { ensureDataset } from "../datasets.js";
import { fmt, isStop, say } from "./figure-util.js";

const DATASET = "first_names";

function bar(value, max) {
  const wrap = el("span", { className: "meter" });
  const fill = el("span", { className: "fill" });
  fill.style.width = `${Math.min(100, (100 * value) / (max || 1)).toFixed(1)}%`;
  wrap.append(fill);
  return wrap;
}

export function setupTraining(py) {
  const fig = document.getElementById("fig-training");
  const stepButton = fig.querySelector("#train-step");
  const restart = fig.querySelector("#train-restart");
  const message = fig.querySelector("[data-testid=training-message]");
  const summary = fig.querySelector("[data-testid=training-summary]");
  const table = fig.querySelector("[data-testid=grad-table]");
  const raceSteps = fig.querySelector("#race-steps");
  const raceButton = fig.querySelector("#race-run");
  const raceMessage = fig.querySelector("[data-testid=race-message]");
  const raceTable = fig.querySelector("[data-testid=race-table]");
  let generation = 0; // worker generation holding our Trainer
  let busy = false;

  async function begin() {
    await ensureDataset(py, DATASET);
    const answer = await py.call("train_reset", { dataset: DATASET });
    generation = py.generation;
    // Steps are counted from k = 0, as in the lesson's prose and code.
    summary.textContent = `No step yet. Step k = 0 will train on "${answer.doc}". Press "Train one step".`;
    // The rows are there from the start, so the first step fills them in place.
    table.tBodies[0].replaceChildren(...answer.matrices.map((name) => el("tr", {},
      el("th", { scope: "row", textContent: name }), el("td", { textContent: "–" }), el("td", { textContent: "–" }))));
  }

  async function step() {
    if (busy) return;
    busy = true;
    stepButton.disabled = true;
    try {
      if (generation !== py.generation) await begin();
      const s = await py.call("train_step");
      summary.textContent = `Step k = ${s.step - 1} trained on "${s.doc}": loss ${fmt(s.loss)}, learning rate ${fmt(s.lr, 5)}. Steps done: ${s.step}. Step k = ${s.step} will train on "${s.next_doc}".`;
      const maxGrad = Math.max(...s.matrices.map((m) => m.grad));
      const maxUpdate = Math.max(...s.matrices.map((m) => m.update));
      table.tBodies[0].replaceChildren(...s.matrices.map((m) => el("tr", {},
        el("th", { scope: "row", textContent: m.name }),
        el("td", {}, bar(m.grad, maxGrad), ` ${fmt(m.grad)}`),
        el("td", {}, bar(m.update, maxUpdate), ` ${fmt(m.update)}`))));
      say(message, "");
      fig.dataset.steps = String(s.step);
    } catch (error) {
      say(message, isStop(error) ? "Python restarted; press again." : error.message, "error");
    } finally {
      busy = false;
      stepButton.disabled = false;
    }
  }

  function raceRow(engine, cells) {
    const tds = raceTable.querySelector(`tr[data-engine="${engine}"]`).querySelectorAll("td");
    cells.forEach((text, i) => { tds[i].textContent = text; });
  }

  // Alternates one step of each engine, so both rows fill in live, side by side.
  async function race() {
    const n = Number(raceSteps.value);
    if (!Number.isInteger(n) || n < 1 || n > 50) {
      say(raceMessage, "Choose a whole number of steps from 1 to 50.", "error");
      raceSteps.setAttribute("aria-invalid", "true");
      return;
    }
    raceSteps.setAttribute("aria-invalid", "false");
    raceButton.disabled = true;
    say(raceMessage, "Racing…");
    const totals = { fast: 0, scalar: 0 };
    try {
      await ensureDataset(py, DATASET);
      await py.call("race_reset", { dataset: DATASET });
      for (const engine of ["fast", "scalar"]) raceRow(engine, ["0", "–", "–"]);
      let last = {};
      for (let k = 1; k <= n; k++) {
        for (const engine of ["fast", "scalar"]) {
          const r = await py.call("race_step", { engine });
          totals[engine] += r.ms;
          last[engine] = r.loss;
          raceRow(engine, [String(r.step), (totals[engine] / r.step).toFixed(1), fmt(r.loss)]);
        }
      }
      const ratio = totals.scalar / totals.fast;
      const same = last.fast.toFixed(6) === last.scalar.toFixed(6) ? "the same losses" : "slightly different losses";
      say(raceMessage, `Done: the fast engine was ${ratio.toFixed(0)}× faster, with ${same}.`);
      fig.dataset.raced = String(n);
    } catch (error) {
      say(raceMessage, isStop(error) ? "Python restarted; race again." : error.message, "error");
    } finally {
      raceButton.disabled = false;
    }
  }

  stepButton.addEventListener("click", step);
  restart.addEventListener("click", () => begin().catch((error) => say(message, error.message, "error")));
  raceButton.addEventListener("click", race);
  begin().then(() => { fig.dataset.ready = "true"; }, (error) => say(message, error.message, "error"));
}
