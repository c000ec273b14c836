// The data to train on, for both pages: the presets of public/data (listed in
// datasets.json), fetched once per page; for the playground also the reader's own text,
// pasted or uploaded, and for the lessons' figures the presets loaded into their Python
// worker. Python validates any text when a run starts; here we only load it and show
// what it holds.
import { $, UserError, el } from "./dom.js";

let listPromise = null;
const texts = new Map(); // id -> Promise<text>

// The presets: [{id, title, file, count, ...}] (data/datasets.json).
export function datasetList() {
  listPromise ??= fetch("./data/datasets.json").then((response) => {
    if (!response.ok) throw new Error(`data/datasets.json: HTTP ${response.status}`);
    return response.json();
  });
  listPromise.catch(() => {
    listPromise = null; // the next use tries again
  });
  return listPromise;
}

// A preset's text, by its id.
export function datasetText(id) {
  if (!texts.has(id)) {
    const text = datasetList().then(async (list) => {
      const entry = list.find((d) => d.id === id);
      if (!entry) throw new UserError(`There is no dataset called ${id}.`);
      const response = await fetch(`./${entry.file}`);
      if (!response.ok) throw new UserError(`Could not load the dataset ${entry.title} (HTTP ${response.status}).`);
      return response.text();
    });
    texts.set(id, text);
    text.catch(() => texts.delete(id)); // not kept: the next use tries again
  }
  return texts.get(id);
}

// --- the playground ----------------------------------------------------------------------
// Fills the dataset menu with the presets (before "your own text", its last option).
export async function loadPresets() {
  const presets = await datasetList();
  const select = $("dataset-select");
  for (const preset of presets) {
    select.insertBefore(
      el("option", { value: preset.id, textContent: `${preset.title} (${preset.count.toLocaleString()})` }),
      select.lastElementChild,
    );
  }
  if (presets.length) select.value = presets[0].id; // the first preset, not "your own text"
  return presets;
}

export function describe(text) {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  const chars = new Set(lines.join(""));
  return { count: lines.length, chars: chars.size, preview: lines.slice(0, 12) };
}

export function showPreview(text, source) {
  const { count, chars, preview } = describe(text);
  $("dataset-info").textContent =
    `${source}: ${count.toLocaleString()} lines, ${chars} different characters.`;
  $("dataset-preview").textContent = preview.length ? `${preview.join(", ")}${count > preview.length ? ", …" : ""}` : "";
}

// Reads an uploaded file as UTF-8 text; refuses what is obviously not a list of lines.
// `maxChars`: what Python takes (limits.max_text_chars), at most 4 bytes each in UTF-8.
export async function readUpload(file, maxChars) {
  if (file.size > 4 * maxChars) {
    throw new UserError(`That file is ${(file.size / 1e6).toFixed(1)} MB; the limit is ${maxChars.toLocaleString("en")} characters of text. Use a shorter list.`);
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (bytes.includes(0)) throw new UserError("That file looks binary, not text: upload a plain text file with one name per line.");
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new UserError("That file is not UTF-8 text: save it as UTF-8 plain text and upload it again.");
  }
}

// --- the lessons -----------------------------------------------------------------------------
const loaded = new WeakMap(); // worker -> Map(id -> the worker generation it was loaded into)

// Loads preset `id` into the lessons' Python worker that asks (`py`, app/lessons/python.js:
// the figures' one, or the cells' one for "Train with my code"), once per worker: a
// restarted worker has forgotten it, hence the generation check.
export async function ensureDataset(py, id) {
  const text = await datasetText(id);
  if (!loaded.has(py)) loaded.set(py, new Map());
  if (loaded.get(py).get(id) !== py.generation) {
    await py.call("use_dataset", { id, text });
    loaded.get(py).set(id, py.generation);
  }
  return id;
}
