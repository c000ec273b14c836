// The data to train on: the presets of public/data (listed in datasets.json), or the
// reader's own text, pasted or uploaded. Python validates the text when a run starts;
// here we only load it and show what it holds.
import { $, UserError, el } from "./dom.js";
import { limits } from "./schema.js";

// Python takes up to max_text_chars characters, at most 4 bytes each in UTF-8.
const MAX_UPLOAD_BYTES = 4 * limits.max_text_chars;

export async function loadPresets() {
  const response = await fetch("./data/datasets.json");
  if (!response.ok) throw new Error(`datasets.json: HTTP ${response.status}`);
  const presets = await response.json();
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

const cache = new Map();

export async function presetText(preset) {
  if (!cache.has(preset.id)) {
    const response = await fetch(`./${preset.file}`);
    if (!response.ok) throw new UserError(`Could not load the dataset ${preset.title} (HTTP ${response.status}).`);
    cache.set(preset.id, await response.text());
  }
  return cache.get(preset.id);
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
export async function readUpload(file) {
  if (file.size > MAX_UPLOAD_BYTES) {
    throw new UserError(`That file is ${(file.size / 1e6).toFixed(1)} MB; the limit is ${limits.max_text_chars.toLocaleString("en")} characters of text. Use a shorter list.`);
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (bytes.includes(0)) throw new UserError("That file looks binary, not text: upload a plain text file with one name per line.");
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new UserError("That file is not UTF-8 text: save it as UTF-8 plain text and upload it again.");
  }
}
