// Reads a model file off the main thread: JSON.parse of a few megabytes, and packing its
// weights, would each be a long task on the page. Answers the file's fields without the
// weights (`header`), the length of every row (`rows`: -1 where a row or a whole matrix
// is not a list) and every number in that order as base64 float64 (anything that is not
// a number becomes NaN, which Python refuses with the same message as in a model file).
// Python (Session.open_model_file) rebuilds the file and checks it as any model file.
import { toBase64 } from "./linkcodec.js";

self.onmessage = (event) => {
  let data;
  try {
    data = JSON.parse(event.data);
  } catch {
    // Python's json reads NaN and Infinity (JSON has neither): say what the CLI says.
    const why = /(^|[[,:\s])-?(NaN|Infinity)(?=[\s,\]}]|$)/.test(event.data)
      ? "The model file holds a value that is not a finite number (NaN or Infinity)."
      : "The model file is not valid JSON (it may be truncated or damaged).";
    postMessage({ error: why });
    return;
  }
  if (!data || typeof data !== "object" || Array.isArray(data)) {
    postMessage({ error: "This is not a TinyGPT model file." });
    return;
  }
  const { state_dict: weights, ...header } = data;
  let rows = null;
  const numbers = [];
  if (weights && typeof weights === "object" && !Array.isArray(weights)) {
    rows = {};
    for (const [name, matrix] of Object.entries(weights)) {
      if (!Array.isArray(matrix)) {
        rows[name] = -1;
        continue;
      }
      rows[name] = matrix.map((row) => {
        if (!Array.isArray(row)) return -1;
        for (const x of row) numbers.push(typeof x === "number" ? x : NaN);
        return row.length;
      });
    }
  }
  const packed = new Uint8Array(new Float64Array(numbers).buffer);
  postMessage({ header: JSON.stringify(header), rows, weights: toBase64(packed) });
};
