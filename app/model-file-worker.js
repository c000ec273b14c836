// Reads a model file off the main thread: JSON.parse of a few megabytes, and packing its
// weights, would each be a long task on the page. Answers the file's fields without the
// weights (`header`), the length of every row (`rows`: -1 where a row or a whole matrix
// is not a list) and every number in that order as base64 float64 (anything that is not
// a number becomes NaN, which Python refuses with the same message as in a model file).
// Python (Session.open_model_file) rebuilds the file and checks it as any model file.
//
// The message is {text, limits} (limits: Python's, tinygpt.session.limits). A file with
// more matrices, rows or numbers than any model the page opens has is refused here, as
// soon as the count passes the limit: what it would hand the page (rows to copy, a call
// to encode and parse) grows with them, and a few MB of "[]" are millions of rows.
import { toBase64 } from "./linkcodec.js";

const fmt = (n) => n.toLocaleString("en");

self.onmessage = (event) => {
  const { text, limits } = event.data;
  const tooBig = `The model file holds more than any model this page opens has (at most ${fmt(limits.max_matrices)} matrices, ${fmt(limits.max_rows)} rows and ${fmt(limits.max_params)} numbers: this page runs models of up to ${fmt(limits.max_params)} parameters); use bigger models with python -m tinygpt sample.`;
  if (typeof text !== "string" || text.length > limits.max_file_bytes) {
    postMessage({ error: tooBig });
    return;
  }
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    // Python's json reads NaN and Infinity (JSON has neither): say what the CLI says.
    const why = /(^|[[,:\s])-?(NaN|Infinity)(?=[\s,\]}]|$)/.test(text)
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
    let matrices = 0;
    let rowCount = 0;
    for (const [name, matrix] of Object.entries(weights)) {
      if (++matrices > limits.max_matrices) {
        postMessage({ error: tooBig });
        return;
      }
      if (!Array.isArray(matrix)) {
        rows[name] = -1;
        continue;
      }
      rowCount += matrix.length;
      if (rowCount > limits.max_rows) {
        postMessage({ error: tooBig });
        return;
      }
      const lengths = [];
      for (const row of matrix) {
        if (!Array.isArray(row)) {
          lengths.push(-1);
          continue;
        }
        if (numbers.length + row.length > limits.max_params) {
          postMessage({ error: tooBig });
          return;
        }
        for (const x of row) numbers.push(typeof x === "number" ? x : NaN);
        lengths.push(row.length);
      }
      rows[name] = lengths;
    }
  }
  const packed = new Uint8Array(new Float64Array(numbers).buffer);
  postMessage({ header: JSON.stringify(header), rows, weights: toBase64(packed) });
};
