// Lesson 3 figure: a heatmap of each head's attention weights for a typed name, from
// Model.attention of the playground's saved run, or of an untrained default model.
import { latestRunState } from "../db.js";
import { heatmap, headName } from "../heatmap.js";
import { ensureDataset } from "../datasets.js";
import { debounce, latest, say } from "./figure-util.js";

const DATASET = "first_names";

function headMap(weights, tokens, layer, head, layers) {
  const table = heatmap(weights, tokens, { caption: headName(layer, head, layers) });
  table.dataset.head = String(head);
  return table;
}

export function setupAttention(py) {
  const fig = document.getElementById("fig-attention");
  const input = fig.querySelector("#attention-name");
  const message = fig.querySelector("[data-testid=attention-message]");
  const source = fig.querySelector("[data-testid=attention-source]");
  const maps = fig.querySelector("[data-testid=attention-heatmaps]");
  let runGeneration = 0; // worker generation the playground run was sent to

  async function ensureRun() {
    if (runGeneration === py.generation) return;
    const state = await latestRunState();
    await py.call("set_run", { state_json: state ? JSON.stringify(state) : null });
    runGeneration = py.generation;
  }

  const update = latest(async (isCurrent) => {
    let answer;
    try {
      await ensureDataset(py, DATASET);
      try {
        await ensureRun();
      } catch (error) {
        say(source, `The playground's saved run could not be used (${error.message}); showing an untrained model.`);
        runGeneration = py.generation;
      }
      answer = await py.call("attention", { dataset: DATASET, name: input.value });
    } catch (error) {
      if (isCurrent()) say(message, error.message, "error");
      return;
    }
    if (!isCurrent()) return;
    say(source, `Model: ${answer.source}. Numbers are percentages; grey cells are masked.`);
    let text = input.value ? `${answer.tokens.length} positions, BOS included.` : "An empty name: only BOS, which can attend only to itself.";
    if (answer.cut > 0) text += ` The model sees ${answer.block_size} positions at most, so the last ${answer.cut} character(s) are left out.`;
    say(message, text);
    const n = answer.layers.length;
    maps.replaceChildren(...answer.layers.flatMap((layer, l) => layer.map((head, h) => headMap(head, answer.tokens, l, h, n))));
    fig.dataset.ready = "true";
  });

  input.addEventListener("input", debounce(update));
  update();
}
