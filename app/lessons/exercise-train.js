// Lesson 6: "Train with my code". The cells' Python worker trains the scalar GPT with the
// learner's pieces beside TinyGPT's own run (tinygpt.exercises.TrainJob), a little at a
// time; the page draws both losses as they come, then says whether they agree to 1e-12,
// where they part and which piece makes them part, and shows the names written.
import { el } from "../dom.js";
import { ensureDataset } from "../datasets.js";
import { fmt, isStop, say } from "./figure-util.js";
import { exerciseState } from "./progress.js";

const DATASET = "first_names";
const WORK_MS = 250; // Python works this long per request: the chart moves a few times a second
const SVG = "http://www.w3.org/2000/svg";
const W = 480;
const H = 200;
const PAD = { left: 40, right: 12, top: 10, bottom: 28 };
const STATE_TEXT = { new: "not tried yet", failed: "not passed yet", passed: "passed" };

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== null) node.textContent = text;
  return node;
}

// Both runs' losses over the steps (x: 1..steps), y fitted to the losses so far. The
// svg is made once per run and changed in place (its size never changes, so an update
// costs no layout): update(mine, theirs) after each batch of steps.
function lossChart(steps) {
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img" });
  const axes = svg("g");
  // TinyGPT's dashes over the learner's line: where they agree, both show.
  const curves = { mine: svg("polyline", { class: "curve mine" }), theirs: svg("polyline", { class: "curve theirs" }) };
  root.append(axes, curves.mine, curves.theirs);
  const x = (step) => PAD.left + ((W - PAD.left - PAD.right) * (step - 1)) / Math.max(1, steps - 1);
  let range = "";

  function drawAxes(low, high, y) {
    axes.replaceChildren();
    for (const loss of [low, (low + high) / 2, high]) {
      axes.append(svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y(loss), y2: y(loss), class: "grid" }));
      axes.append(svg("text", { x: PAD.left - 6, y: y(loss) + 4, "text-anchor": "end" }, loss.toFixed(2)));
    }
    for (const step of [1, steps]) {
      axes.append(svg("text", { x: x(step), y: H - PAD.bottom + 16, "text-anchor": "middle" }, String(step)));
    }
    axes.append(svg("text", { x: W - PAD.right, y: H - 2, "text-anchor": "end" }, "step"));
  }

  function update(mine, theirs) {
    const all = [...mine, ...theirs].filter(Number.isFinite);
    const low = Math.floor(Math.min(...all) * 10) / 10;
    const high = Math.max(low + 0.1, Math.ceil(Math.max(...all) * 10) / 10);
    const y = (loss) => H - PAD.bottom - ((H - PAD.top - PAD.bottom) * (loss - low)) / (high - low);
    if (range !== `${low} ${high}`) {
      range = `${low} ${high}`;
      drawAxes(low, high, y);
    }
    for (const [losses, side] of [[mine, "mine"], [theirs, "theirs"]]) {
      const coords = losses.map((loss, i) => (Number.isFinite(loss) ? `${x(i + 1).toFixed(1)},${y(loss).toFixed(1)}` : null));
      curves[side].setAttribute("points", coords.filter(Boolean).join(" "));
    }
    const k = theirs.length;
    root.setAttribute("aria-label", `Loss per step, ${k} of ${steps} steps: yours ${fmt(mine[k - 1])}, TinyGPT's ${fmt(theirs[k - 1])}.`);
  }
  return { root, update };
}

export function setupTrainMine(worker, exercises) {
  const panel = document.getElementById("train-mine");
  const steps = panel.querySelector("#train-mine-steps");
  const run = panel.querySelector("#train-mine-run");
  const stop = panel.querySelector("#train-mine-stop");
  const link = panel.querySelector("#train-mine-link");
  const pieces = panel.querySelector("[data-testid=exercise-train-pieces]");
  const progress = panel.querySelector("[data-testid=exercise-train-progress]");
  const plot = panel.querySelector("[data-testid=exercise-train-chart]");
  const result = panel.querySelector("[data-testid=exercise-train-result]");
  const namesMessage = panel.querySelector("[data-testid=exercise-train-names-message]");
  const names = panel.querySelector("[data-testid=exercise-train-names]");
  const legend = el("p", { className: "legend" },
    el("span", { className: "key mine", textContent: "your pieces" }), " ",
    el("span", { className: "key theirs", textContent: "TinyGPT's" }));
  const titles = new Map(exercises.list.map((e) => [e.id, e]));
  let running = false;

  // Whose each piece will be, as far as the page knows (Python checks again at the start).
  function listPieces(standingIn = null) {
    pieces.replaceChildren(...exercises.list.map((exercise) => {
      const state = exerciseState(exercise.id);
      const why = standingIn ? standingIn.get(exercise.id) : state === "passed" ? null : STATE_TEXT[state];
      const yours = why === null || why === undefined;
      const item = el("li", { dataset: { exercise: exercise.id, whose: yours ? "yours" : "tinygpt" } },
        el("a", { href: `#${exercise.lesson}`, textContent: exercise.title[0].toUpperCase() + exercise.title.slice(1) }), ": ",
        yours ? "yours" : `TinyGPT's stands in (${why})`);
      return item;
    }));
  }

  function updateLink() {
    const url = new URL(link.getAttribute("href"), location.href);
    url.searchParams.set("steps", steps.value);
    link.setAttribute("href", `./index.html${url.search}`);
  }

  async function train() {
    if (running) return;
    running = true;
    run.disabled = true;
    steps.disabled = true;
    stop.hidden = false;
    result.textContent = "";
    delete result.dataset.state;
    names.replaceChildren();
    namesMessage.textContent = "";
    plot.replaceChildren();
    const mine = [];
    const theirs = [];
    try {
      say(progress, worker.state === "ready" ? "Checking your pieces…" : "Waiting for Python…");
      await ensureDataset(worker, DATASET);
      const info = await worker.call("exercise_train_start", {
        codes: exercises.codes(), dataset: DATASET, steps: Number(steps.value),
      });
      listPieces(new Map(info.standing_in.map((s) => [s.exercise, s.why])));
      panel.dataset.yours = info.yours.join(" ");
      const chart = lossChart(info.steps);
      let answer = { done: false };
      while (!answer.done) {
        answer = await worker.call("exercise_train_work", { budget_ms: WORK_MS });
        for (const event of answer.events) {
          if (event.phase === "training") {
            mine.push(event.loss ?? NaN);
            theirs.push(event.reference);
            say(progress, `Step ${event.step} of ${info.steps}: your loss ${fmt(event.loss ?? NaN)}, TinyGPT's ${fmt(event.reference)}.`);
          } else if (event.phase === "locating") {
            say(progress, `Finding where they part: trying your ${titles.get(event.piece)?.title ?? event.piece} alone…`);
          } else if (event.phase === "sampling") {
            say(progress, "Writing names…");
          }
        }
        if (theirs.length) {
          if (!plot.hasChildNodes()) plot.append(legend, chart.root);
          chart.update(mine, theirs);
        }
      }
      const r = answer.result;
      say(progress, `Done: ${r.steps} steps.`);
      result.dataset.state = r.state;
      result.textContent = r.message;
      namesMessage.textContent = r.names_message;
      names.replaceChildren(...(r.names ?? []).map((name) => el("li", { textContent: name || "(an empty name)" })));
    } catch (error) {
      say(progress, isStop(error) ? "Stopped: Python was restarted (the cells' variables are gone too)." : error.message, "error");
    } finally {
      running = false;
      run.disabled = false;
      steps.disabled = false;
      stop.hidden = true;
    }
  }

  run.addEventListener("click", train);
  stop.addEventListener("click", () => worker.restart());
  steps.addEventListener("change", updateLink);
  updateLink();
  listPieces();
  return { refresh: () => { if (!running) listPieces(); } };
}
