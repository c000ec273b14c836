// Lesson 2 figure: the reader's expression drawn as its Value graph (data and grad of
// every node after backward()), beside a finite-difference check of each leaf's grad.
import { el } from "../dom.js";
import { debounce, fmt, latest, say } from "./figure-util.js";

const SVG = "http://www.w3.org/2000/svg";
const W = 112; // node box
const H = 54;
const GAP_X = 48;
const GAP_Y = 22; // room for the lanes that edges skipping a column run along
const PAD = 14;

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== null) node.textContent = text;
  return node;
}

const short = (x) => (Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(2) : String(+x.toFixed(4)));

// Columns by depth (leaves left, `out` right), so every edge points right. Within a
// column, nodes sit in the order of the nodes they use (fewer crossing edges).
function layout(nodes) {
  const depth = [];
  for (const n of nodes) depth[n.id] = n.children.length ? 1 + Math.max(...n.children.map((c) => depth[c])) : 0;
  const columns = [];
  for (const n of nodes) (columns[depth[n.id]] ??= []).push(n.id);
  const row = [];
  columns.forEach((col, x) => {
    if (x > 0) {
      const mean = (id) => nodes[id].children.reduce((sum, c) => sum + row[c], 0) / nodes[id].children.length;
      col.sort((a, b) => mean(a) - mean(b));
    }
    col.forEach((id, y) => { row[id] = y; });
  });
  const pos = [];
  for (const n of nodes) pos[n.id] = { x: PAD + depth[n.id] * (W + GAP_X), y: PAD + row[n.id] * (H + GAP_Y), col: depth[n.id], row: row[n.id] };
  const width = 2 * PAD + columns.length * (W + GAP_X) - GAP_X;
  const height = 2 * PAD + Math.max(...columns.map((c) => c.length)) * (H + GAP_Y) - GAP_Y;
  return { pos, width, height };
}

// An edge from a child's right side to its parent's left side. One that skips columns
// runs along the gap above the higher of its two rows, so it never hides behind a node.
function edgePath(from, to, laneShift) {
  const x1 = from.x + W;
  const y1 = from.y + H / 2;
  const x2 = to.x;
  const y2 = to.y + H / 2;
  const bend = GAP_X / 2;
  if (to.col - from.col === 1) return `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`;
  const lane = Math.min(from.y, to.y) - GAP_Y / 2 - laneShift;
  return `M${x1},${y1} C${x1 + bend},${y1} ${x1 + bend},${lane} ${x1 + GAP_X},${lane} `
    + `L${x2 - GAP_X},${lane} C${x2 - bend},${lane} ${x2 - bend},${y2} ${x2},${y2}`;
}

function arrowMarker() {
  const marker = svg("marker", { id: "autograd-arrow", viewBox: "0 0 8 8", refX: 8, refY: 4, markerWidth: 7, markerHeight: 7, orient: "auto" });
  marker.append(svg("path", { d: "M0,0 L8,4 L0,8 z", class: "arrow" }));
  const defs = svg("defs");
  defs.append(marker);
  return defs;
}

function draw(nodes) {
  const { pos, width, height } = layout(nodes);
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img" });
  root.setAttribute("aria-label", `Computation graph with ${nodes.length} nodes; the table beside it lists each input's gradient`);
  root.append(arrowMarker());
  const lanes = new Map(); // lane (row gap) -> edges already in it, to keep them apart
  for (const n of nodes) {
    for (const c of n.children) {
      let shift = 0;
      if (pos[n.id].col - pos[c].col > 1) {
        const key = Math.min(pos[c].row, pos[n.id].row);
        const used = lanes.get(key) ?? 0;
        lanes.set(key, used + 1);
        shift = ((used % 3) - 1) * 5;
      }
      root.append(svg("path", { d: edgePath(pos[c], pos[n.id], shift), class: "edge", "marker-end": "url(#autograd-arrow)" }));
    }
  }
  for (const n of nodes) {
    const { x, y } = pos[n.id];
    const g = svg("g", { class: `node ${n.op === "leaf" ? "leaf" : ""}`, "data-name": n.name });
    g.append(svg("rect", { x, y, width: W, height: H, rx: 6 }));
    const title = n.op === "leaf" ? n.name || "constant" : n.name ? `${n.name} = ${n.op}` : n.op;
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
