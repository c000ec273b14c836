// A Web Worker with its own Pyodide and the tinygpt package, for the lessons page.
// Code runs here so that a long or endless cell never blocks the page: the page stops it
// by terminating this worker and starting a fresh one. The page starts it from a blob:
// wrapper (app/worker-start.js), so it runs under the page's Content-Security-Policy.
//
// Messages in:  {id, type: "run", code, scope}   run a cell (scope: the lesson's namespace)
//               {id, type: "call", name, args}    a figure's request to tinygpt.lessons.call
// Messages out: {type: "ready"} | {type: "failed", message}
//               {id, type: "out", stream, text}   output as it is printed, in small batches
//               {id, type: "done", ok}            a cell finished (ok: no exception)
//               {id, type: "result", json}        a figure's answer
import { startPython } from "../python-package.js";

const site = new URL("../../", import.meta.url);
const REST_OF_STDLIB = new URL("vendor/pyodide/python_stdlib.rest.zip", site).href;
const FLUSH_MS = 50; // output reaches the page at least this often while a cell runs
const MAX_OUTPUT = 200_000; // characters per run; past this the output is cut

let current = null; // id of the request being run
let pending = { stdout: "", stderr: "" };
let lastFlush = 0;
let written = 0;

function flush() {
  for (const stream of ["stdout", "stderr"]) {
    if (pending[stream]) postMessage({ id: current, type: "out", stream, text: pending[stream] });
    pending[stream] = "";
  }
  lastFlush = Date.now();
}

function writer(stream) {
  const decoder = new TextDecoder();
  return {
    write(bytes) {
      let text = decoder.decode(bytes, { stream: true });
      if (written < MAX_OUTPUT) {
        if (written + text.length >= MAX_OUTPUT) {
          text = text.slice(0, MAX_OUTPUT - written) + "\n[output cut here: over 200,000 characters]\n";
        }
        written += text.length;
        pending[stream] += text;
      }
      if (Date.now() - lastFlush > FLUSH_MS) flush();
      return bytes.length;
    },
  };
}

// The rest of the standard library, for a cell that imports a module the pages do not
// start with (tinygpt/stdlib_rest.py asks, once). A worker may wait for a request, and
// the import that needs it has to.
function fetchRestOfStdlib() {
  const request = new XMLHttpRequest();
  request.open("GET", REST_OF_STDLIB, false);
  request.responseType = "arraybuffer";
  request.send();
  if (request.status !== 200) throw new Error(`HTTP ${request.status}`);
  return new Uint8Array(request.response);
}

async function start() {
  // The compiled standard library even on a first visit: the lessons start two of these
  // workers, and each would spend about a second compiling the source one (the page's
  // first-visit download budget is the playground's).
  const pyodide = await startPython(site, { compiled: true, lessons: true });
  pyodide.setStdout(writer("stdout"));
  pyodide.setStderr(writer("stderr"));
  pyodide.pyimport("tinygpt.stdlib_rest").install(fetchRestOfStdlib, "/lib/python_stdlib.rest.zip");
  const lessons = pyodide.pyimport("tinygpt.lessons");
  lessons.start_worker();
  return { run: lessons.run_in_scope, call: lessons.call };
}

const ready = start();
ready.then(() => postMessage({ type: "ready" }), (error) => postMessage({ type: "failed", message: String(error?.message || error) }));

let queue = Promise.resolve();
self.onmessage = (event) => {
  queue = queue.then(() => handle(event.data));
};

async function handle(message) {
  let python;
  try {
    python = await ready;
  } catch {
    return; // "failed" was reported
  }
  current = message.id;
  written = 0;
  lastFlush = 0; // the first output of a run goes out at once
  if (message.type === "run") {
    let ok = false;
    try {
      ok = python.run(message.code, message.scope);
    } catch (error) {
      pending.stderr += String(error?.message || error);
    }
    flush();
    postMessage({ id: message.id, type: "done", ok });
  } else if (message.type === "call") {
    let json;
    try {
      json = python.call(message.name, JSON.stringify(message.args ?? {}));
    } catch (error) {
      json = JSON.stringify({ error: String(error?.message || error) });
    }
    flush(); // a figure prints nothing, but keep the streams clean for the next request
    postMessage({ id: message.id, type: "result", json });
  }
}
