// The frame loop: every animation frame, Python trains for a fixed time budget, then
// the page draws and yields, so the main thread never blocks for long. A step of the
// fast engine takes a few milliseconds in Pyodide, so a frame fits one or two steps;
// the scalar engine's step is longer than the budget, and the loop still yields
// between its steps so the page stays alive.
import { call } from "./bridge.js";

export const BUDGET_MS = 9;

export class TrainingLoop {
  constructor({ onFrame, onDone, onError }) {
    Object.assign(this, { onFrame, onDone, onError });
    this.running = false;
    this.handle = 0;
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.handle = requestAnimationFrame(() => this.frame());
  }

  stop() {
    this.running = false;
    cancelAnimationFrame(this.handle);
  }

  frame() {
    if (!this.running) return;
    let result;
    try {
      result = call("train_for", { budget_ms: BUDGET_MS });
    } catch (error) {
      this.stop();
      this.onError(error);
      return;
    }
    this.onFrame(result);
    if (result.done) {
      this.stop();
      this.onDone(result);
    } else {
      this.handle = requestAnimationFrame(() => this.frame());
    }
  }
}

// Steps per second over the last couple of seconds, for the rate and the time left.
export class RateMeter {
  constructor(windowMs = 2000) {
    this.windowMs = windowMs;
    this.samples = [];
  }

  reset() {
    this.samples = [];
  }

  add(steps) {
    const now = performance.now();
    this.samples.push([now, steps]);
    while (this.samples.length > 2 && now - this.samples[0][0] > this.windowMs) this.samples.shift();
  }

  get rate() {
    if (this.samples.length < 2) return null;
    const [t0] = this.samples[0];
    const [t1] = this.samples[this.samples.length - 1];
    const steps = this.samples.slice(1).reduce((n, [, s]) => n + s, 0);
    return t1 > t0 ? (steps * 1000) / (t1 - t0) : null;
  }
}
