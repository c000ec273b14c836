// Lesson 1 figure: the ids of any text under a dataset's tokenizer, and its vocabulary.
import { el } from "../dom.js";
import { ensureDataset, datasetList } from "../datasets.js";
import { debounce, latest, say, showChar } from "./figure-util.js";

export async function setupTokens(py) {
  const fig = document.getElementById("fig-tokens");
  const select = fig.querySelector("#tokens-dataset");
  const input = fig.querySelector("#tokens-text");
  const message = fig.querySelector("[data-testid=tokens-message]");
  const row = fig.querySelector("[data-testid=token-ids]");
  const table = fig.querySelector("[data-testid=vocab-table]");

  let list;
  try {
    list = await datasetList();
  } catch (error) {
    say(message, `The datasets could not be loaded: ${error.message}`, "error");
    return;
  }
  select.replaceChildren(...list.map((d) => el("option", { value: d.id, textContent: d.title })));
  say(message, "Loading the tokenizer…");

  const update = latest(async (isCurrent) => {
    const dataset = select.value;
    const title = select.selectedOptions[0]?.textContent ?? dataset;
    let answer;
    try {
      await ensureDataset(py, dataset);
      answer = await py.call("tokens", { dataset, text: input.value });
    } catch (error) {
      if (isCurrent()) say(message, error.message, "error");
      return;
    }
    if (!isCurrent()) return;
    row.replaceChildren(...answer.pieces.map((p) => el("li", { className: p.id === null ? "unknown" : "" },
      el("span", { className: "ch", textContent: showChar(p.ch) }),
      el("span", { className: "id", textContent: p.id === null ? "?" : String(p.id) }))));
    if (answer.unknown.length) {
      const chars = answer.unknown.map((c) => `"${showChar(c)}"`).join(", ");
      say(message, `Not in the vocabulary of ${title}: ${chars}. The model cannot read or write these; every other character is shown with its id.`, "error");
    } else if (!input.value) {
      say(message, "Type some text to see its ids.");
    } else {
      say(message, `As a document: [${answer.encoded.join(", ")}] — BOS (${answer.bos}) at both ends.`);
    }
    table.querySelector("caption").textContent =
      `${title}: ${answer.docs.toLocaleString("en")} names, ${answer.vocab.length} characters, plus BOS = ${answer.bos}.`;
    table.tBodies[0].replaceChildren(...answer.vocab.map((v) => el("tr", {},
      el("td", { textContent: String(v.id) }),
      el("td", { textContent: showChar(v.ch) }),
      el("td", { textContent: v.count.toLocaleString("en") }))),
    el("tr", {}, el("td", { textContent: String(answer.bos) }), el("td", { textContent: "BOS" }),
      el("td", { textContent: "start and end of every name" })));
    fig.dataset.ready = "true";
  });

  input.addEventListener("input", debounce(update));
  select.addEventListener("change", update);
  update();
}
