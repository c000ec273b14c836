// The page's side of a Python worker (python-worker.js): send code or a figure's request,
// get output and answers back as promises. `restart()` is how a running cell is stopped:
// terminate the worker (the only way to interrupt Python without SharedArrayBuffer) and
// start a fresh one. Everything waiting on the old worker is rejected with StoppedError.
import { PythonError } from "../bridge.js";
import { startWorker } from "../worker-start.js";

export class StoppedError extends Error {}

export class PythonWorker {
  constructor(name) {
    this.name = name;
    this.generation = 0; // increases at each (re)start: Python's state is new
    this.listeners = new Set();
    this.start();
  }

  start() {
    this.generation += 1;
    this.nextId = 1;
    this.pending = new Map(); // id -> {resolve, reject, onOutput}
    this.state = "loading";
    this.notify();
    // Under the page's policy (worker-start.js).
    this.worker = startWorker(new URL("./python-worker.js", import.meta.url), { name: this.name });
    this.ready = new Promise((resolve, reject) => {
      this.readyCallbacks = { resolve, reject };
    });
    this.ready.catch(() => {}); // reported through the state; callers see it when they await
    this.worker.onmessage = (event) => this.receive(event.data);
    this.worker.onerror = (event) => {
      event.preventDefault();
      this.fail(event.message || "the Python worker could not start");
    };
  }

  fail(message) {
    this.state = "failed";
    this.failure = `Python could not start: ${message}. Reload the page to try again.`;
    this.readyCallbacks.reject(new Error(this.failure));
    for (const request of this.pending.values()) request.reject(new Error(this.failure));
    this.pending.clear();
    this.notify();
  }

  receive(message) {
    if (message.type === "ready") {
      this.state = "ready";
      this.readyCallbacks.resolve();
      this.notify();
      window.dispatchEvent(new Event("tinygpt:ready")); // Python runs (offline.js waits for it)
      return;
    }
    if (message.type === "failed") {
      this.fail(message.message);
      return;
    }
    const request = this.pending.get(message.id);
    if (!request) return;
    if (message.type === "out") {
      request.onOutput?.(message.stream, message.text);
    } else if (message.type === "done") {
      this.pending.delete(message.id);
      request.resolve({ ok: message.ok });
    } else if (message.type === "result") {
      this.pending.delete(message.id);
      const answer = JSON.parse(message.json);
      if ("error" in answer) request.reject(new PythonError(answer));
      else request.resolve(answer.ok);
    }
  }

  send(message, handlers) {
    if (this.state === "failed") return Promise.reject(new Error(this.failure));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, ...handlers });
      this.worker.postMessage({ id, ...message });
    });
  }

  // Run a cell: resolves {ok} when it ends; onOutput(stream, text) as it prints.
  run(code, scope, onOutput) {
    return this.send({ type: "run", code, scope }, { onOutput });
  }

  // A figure's request; rejects with the Python message for bad input. A request that
  // takes over `timeoutMs` (for example an endless loop typed into a figure) restarts
  // the worker and rejects.
  call(name, args = {}, timeoutMs = 60_000) {
    const answer = this.send({ type: "call", name, args });
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`This took over ${timeoutMs / 1000} s, so it was stopped.`));
        this.restart();
      }, timeoutMs);
    });
    return Promise.race([answer, timeout]).finally(() => clearTimeout(timer));
  }

  get busy() {
    return this.pending.size > 0;
  }

  restart() {
    this.worker.terminate();
    const stopped = new StoppedError("stopped");
    for (const request of this.pending.values()) request.reject(stopped);
    this.pending.clear();
    this.start();
  }

  // listener(state) on every change of state (loading, ready, failed)
  onState(listener) {
    this.listeners.add(listener);
    listener(this.state);
  }

  notify() {
    for (const listener of this.listeners ?? []) listener(this.state);
  }
}
