// Lesson 2 figure: the reader's expression drawn as its Value graph (data and grad of
// every node after backward()), beside a finite-difference check of each leaf's grad.
import { el } from "../dom.js";
import { debounce, fmt, latest, say } from "./figure-util.js";

const SVG = "http://www.w3.org/2000/svg";
const W = 112; // node box
const H = 54;
const GAP_X = 44;
const GAP_Y = 14;

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== null) node.textContent = text;
  return node;
}

const short = (x) => (Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(2) : String(+x.toFixed(4)));

// Columns by depth (leaves left, `out` right), so every edge points right.
function layout(nodes) {
  const depth = [];
  for (const n of nodes) depth[n.id] = n.children.length ? 1 + Math.max(...n.children.map((c) => depth[c])) : 0;
  const columns = [];
  for (const n of nodes) (columns[depth[n.id]] ??= []).push(n.id);
  const pos = [];
  columns.forEach((col, x) => col.forEach((id, y) => { pos[id] = { x: 8 + x * (W + GAP_X), y: 8 + y * (H + GAP_Y) }; }));
  const width = 16 + columns.length * (W + GAP_X) - GAP_X;
  const height = 16 + Math.max(...columns.map((c) => c.length)) * (H + GAP_Y) - GAP_Y;
  return { pos, width, height };
}

function draw(nodes) {
  const { pos, width, height } = layout(nodes);
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img" });
  root.setAttribute("aria-label", `Computation graph with ${nodes.length} nodes`);
  for (const n of nodes) {
    for (const c of n.children) {
      root.append(svg("line", { x1: pos[c].x + W, y1: pos[c].y + H / 2, x2: pos[n.id].x, y2: pos[n.id].y + H / 2, class: "edge" }));
    }
  }
  for (const n of nodes) {
    const { x, y } = pos[n.id];
    const g = svg("g", { class: `node ${n.op === "leaf" ? "leaf" : ""}`, "data-name": n.name });
    g.append(svg("rect", { x, y, width: W, height: H, rx: 6 }));
    const title = n.name ? (n.op === "leaf" ? n.name : `${n.name} = ${n.op}`) : n.op;
    g.append(svg("text", { x: x + 6, y: y + 15, class: "label" }, title));
    g.append(svg("text", { x: x + 6, y: y + 31 }, `data ${short(n.data)}`));
    g.append(svg("text", { x: x + 6, y: y + 47, class: "grad" }, `grad ${short(n.grad)}`));
    root.append(g);
  }
  return root;
}

export function setupAutograd(py) {
  const fig = document.getElementById("fig-autograd");
  const code = fig.querySelector("#autograd-code");
  const button = fig.querySelector("#autograd-draw");
  const message = fig.querySelector("[data-testid=autograd-message]");
  const graph = fig.querySelector("[data-testid=autograd-graph]");
  const table = fig.querySelector("[data-testid=fd-table]");

  const update = latest(async (isCurrent) => {
    say(message, "Computing…");
    let answer;
    try {
      answer = await py.call("autograd", { code: code.value }, 5000);
    } catch (error) {
      if (isCurrent()) say(message, error.message, "error");
      return;
    }
    if (!isCurrent()) return;
    graph.replaceChildren(draw(answer.nodes));
    table.tBodies[0].replaceChildren(...answer.checks.map((c) => el("tr", { className: c.ok ? "" : "bad" },
      el("th", { scope: "row", textContent: c.name }),
      el("td", { textContent: fmt(c.grad, 6) }),
      el("td", { textContent: fmt(c.numeric, 6) }),
      el("td", { textContent: c.ok ? "yes" : "NO" }))));
    say(message, `out = ${short(answer.out)}; ${answer.nodes.length} nodes.`);
    fig.dataset.ready = "true";
  });

  button.addEventListener("click", update);
  code.addEventListener("input", debounce(update, 500));
  code.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      update();
    }
  });
  update();
}
