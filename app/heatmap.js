// Attention heatmaps: one table per head, a row per position that looks (the query) and
// a column per position it looks at (the key), each cell as dark as the weight. Shared by
// lesson 3's figure and the playground's "Inside the model" panel, which repaints its
// tables in place a few times a second while the model trains.
import { el } from "./dom.js";

// "head 2", or "layer 1, head 2" when there are several layers.
export function headName(layer, head, layers) {
  return layers > 1 ? `layer ${layer + 1}, head ${head + 1}` : `head ${head + 1}`;
}

// A table for one head's weights ([query][key], rows summing to 1, zeros after the
// query). `numbers`: write the weight (in percent) in each cell, or leave the cells
// small and give the numbers only in their titles. `cellTestId` marks every cell.
export function heatmap(weights, tokens, { caption, numbers = true, cellTestId = "" } = {}) {
  const table = el("table", { className: numbers ? "heatmap" : "heatmap compact" });
  table.append(el("caption", { textContent: caption }));
  table.append(el("tr", {}, el("td"), ...tokens.map((t) => el("th", { scope: "col", textContent: t }))));
  weights.forEach((row, q) => {
    const tr = el("tr", {}, el("th", { scope: "row", textContent: tokens[q] }));
    for (let k = 0; k < row.length; k++) tr.append(el("td", cellTestId ? { dataset: { testid: cellTestId } } : {}));
    table.append(tr);
  });
  paintHeatmap(table, weights, tokens, { numbers });
  return table;
}

// Writes new weights into a table made by `heatmap` for the same tokens. Only cells whose
// shade changes (of 41, finer than the eye tells apart) are touched: each touched cell
// costs the browser a style update and a repaint. And
// `titles: false` leaves the exact numbers of the titles for later (while they change
// several times a second, nobody reads them).
export function paintHeatmap(table, weights, tokens, { numbers = true, titles = true } = {}) {
  weights.forEach((row, q) => {
    const cells = table.rows[q + 1].cells; // cell 0 is the row's header
    row.forEach((w, k) => {
      const cell = cells[k + 1];
      if (titles) cell.title = `${tokens[q]} → ${tokens[k]}: ${w.toFixed(3)}`;
      const shade = k <= q ? (Math.round(w * 40) / 40).toFixed(3) : "masked"; // 41 shades
      if (cell.shade === shade) return;
      cell.shade = shade;
      if (k <= q) {
        cell.style.background = `rgba(36, 86, 200, ${shade})`;
        if (numbers) cell.textContent = (w * 100).toFixed(0);
        cell.className = w > 0.55 ? "strong" : "";
      } else {
        cell.className = "masked"; // the causal mask: a position never sees later ones
      }
    });
  });
}
