// Opening a model: the one way the page opens a model from a link, a file or the saved
// models. Python checks everything before it replaces anything, so a broken source
// leaves the page as it was and says what is wrong; the run being replaced is saved
// first, and "Back to your unfinished run" returns to it.
import { call } from "./bridge.js";
import { LinkError, toBase64 } from "./linkcodec.js";
import { limits } from "./settings.js";
import { startWorker } from "./worker-start.js";

const fmt = (n) => n.toLocaleString("en");

// The fields a model file carries, read in a worker (model-file-worker.js).
function readModelFile(text) {
  return new Promise((resolve, reject) => {
    const worker = startWorker(new URL("./model-file-worker.js", import.meta.url)); // under the page's CSP
    worker.onmessage = (event) => {
      worker.terminate();
      if (event.data.error) reject(new LinkError(event.data.error));
      else resolve(event.data);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      worker.terminate();
      reject(new Error(`the model file could not be read (${event.message || "worker failed"})`));
    };
    worker.postMessage({ text, limits }); // the worker refuses files bigger than any model here
  });
}

// Python's message, to follow "cannot be opened: ".
function clause(message) {
  return message.replace(/\.$/, "").replace(/^(The|This|There|A|An) /, (word) => word.toLowerCase());
}

// source: {kind: "link", bytes} | {kind: "file", text} | {kind: "saved", text}.
// Resolves with Python's info about the model; throws a LinkError (kind "user") with
// Python's reason when the source is not a usable model.
export async function openModel(app, source) {
  if (source.kind !== "link" && source.text.length > limits.max_file_bytes) {
    throw new LinkError(`it is ${(source.text.length / 1e6).toFixed(1)} MB; this page opens model files of up to ${(limits.max_file_bytes / 1e6).toFixed(1)} MB (models of up to ${fmt(limits.max_params)} parameters)`);
  }
  const parts = source.kind === "link" ? null : await readModelFile(source.text).catch((error) => {
    throw error instanceof LinkError ? new LinkError(clause(error.message)) : error;
  });
  await app.beforeReplace(); // the run being replaced stays in storage
  let info;
  try {
    info = source.kind === "link"
      ? call("load_shared_model", { data: toBase64(source.bytes) })
      : call("open_model_file", parts);
  } catch (error) {
    if (error.kind === "user") throw new LinkError(clause(error.message));
    throw error;
  }
  app.showModel(info);
  return info;
}

// "(trained on US first names, 1,000 steps, loss 2.3012, 16-bit weights)"
export function describeModel(info) {
  const meta = info.meta || {};
  const parts = [
    info.dataset ? `trained on ${info.dataset}` : "",
    Number.isInteger(meta.steps) ? `${fmt(meta.steps)} steps` : "",
    Number.isFinite(info.loss) ? `loss ${info.loss.toFixed(4)}` : "",
    info.bits ? `${info.bits}-bit weights` : "",
  ].filter(Boolean);
  return parts.length ? ` (${parts.join(", ")})` : "";
}
