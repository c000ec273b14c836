// Lesson 6 figure: overfitting, seen. 500 steps on 10, 100 or 1000 first names (a fifth
// held out by the Trainer), the loss on training names and on held-out names every 50
// steps as two curves, and the names the model writes at the end, copies marked.
import { el } from "../dom.js";
import { ensureDataset } from "../datasets.js";
import { fmt, isStop, say } from "./figure-util.js";

const DATASET = "first_names";
const SVG = "http://www.w3.org/2000/svg";
const W = 480;
const H = 220;
const PAD = { left: 34, right: 12, top: 10, bottom: 30 };

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== null) node.textContent = text;
  return node;
}

// Two loss curves over the steps, on axes fixed for the whole run (x: 0..steps).
function chart(points, steps) {
  const top = Math.max(4, Math.ceil(Math.max(...points.flatMap((p) => [p.train, p.val]))));
  const x = (step) => PAD.left + ((W - PAD.left - PAD.right) * step) / steps;
  const y = (loss) => H - PAD.bottom - ((H - PAD.top - PAD.bottom) * loss) / top;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img" });
  const last = points[points.length - 1];
  root.setAttribute("aria-label", `Loss curves up to step ${last.step}: training names ${fmt(last.train, 2)}, held-out names ${fmt(last.val, 2)}. The table below lists every point.`);
  for (let loss = 0; loss <= top; loss += 1) {
    root.append(svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y(loss), y2: y(loss), class: "grid" }));
    root.append(svg("text", { x: PAD.left - 6, y: y(loss) + 4, "text-anchor": "end" }, String(loss)));
  }
  for (let step = 0; step <= steps; step += 100) {
    root.append(svg("text", { x: x(step), y: H - PAD.bottom + 16, "text-anchor": "middle" }, String(step)));
  }
  root.append(svg("text", { x: W - PAD.right, y: H - 2, "text-anchor": "end" }, "step"));
  for (const side of ["train", "val"]) {
    const coords = points.map((p) => `${x(p.step).toFixed(1)},${y(p[side]).toFixed(1)}`).join(" ");
    root.append(svg("polyline", { points: coords, class: `curve ${side}` }));
  }
  return root;
}

export function setupOverfit(py) {
  const fig = document.getElementById("fig-overfit");
  const select = fig.querySelector("#overfit-names");
  const button = fig.querySelector("#overfit-run");
  const message = fig.querySelector("[data-testid=overfit-message]");
  const plot = fig.querySelector("[data-testid=overfit-chart]");
  const table = fig.querySelector("[data-testid=overfit-table]");
  const summary = fig.querySelector("[data-testid=overfit-summary]");
  const samples = fig.querySelector("[data-testid=overfit-samples]");
  const legend = el("p", { className: "legend" },
    el("span", { className: "key train", textContent: "training names" }), " ",
    el("span", { className: "key val", textContent: "held-out names" }));

  function show(points, steps) {
    plot.replaceChildren(legend, chart(points, steps));
    table.closest("details").hidden = false;
    table.tBodies[0].replaceChildren(...points.map((p) => el("tr", {},
      el("th", { scope: "row", textContent: String(p.step) }),
      el("td", { textContent: fmt(p.train, 3) }),
      el("td", { textContent: fmt(p.val, 3) }))));
  }

  async function run() {
    button.disabled = true;
    select.disabled = true;
    summary.textContent = "";
    samples.replaceChildren();
    delete fig.dataset.done;
    try {
      say(message, "Starting…");
      await ensureDataset(py, DATASET);
      const start = await py.call("overfit_start", { dataset: DATASET, names: Number(select.value) });
      const points = [start.point];
      show(points, start.steps);
      let answer;
      do {
        say(message, `Training on ${start.train_docs} names, ${start.val_docs} held out: step ${points[points.length - 1].step} of ${start.steps}…`);
        answer = await py.call("overfit_train");
        points.push(answer.point);
        show(points, start.steps);
      } while (!answer.done);
      const last = answer.point;
      say(message, `After ${last.step} steps: loss ${fmt(last.train, 2)} on training names, ${fmt(last.val, 2)} on held-out names.`);
      const copies = answer.samples.filter((s) => s.trained_on).length;
      summary.textContent = `The model wrote ${answer.samples.length} names; ${copies} of them are names it trained on (marked "copy").`;
      samples.replaceChildren(...answer.samples.map((s) => el("li", { className: s.trained_on ? "copy" : "" },
        s.name || "(empty)", s.trained_on ? " (copy)" : s.held_out ? " (a held-out name)" : "")));
      fig.dataset.done = select.value;
    } catch (error) {
      say(message, isStop(error) ? "Python restarted; press again." : error.message, "error");
    } finally {
      button.disabled = false;
      select.disabled = false;
    }
  }

  button.addEventListener("click", run);
  say(message, "Choose how many names, then press the button (a few seconds).");
  fig.dataset.ready = "true";
}
