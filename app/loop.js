// Short tasks: Python works in pieces of about BUDGET_MS each (training steps, names
// being generated), and the page shows what they did a few dozen times a second.
//
// Why not one batch of steps per animation frame: a frame is 16.7 ms, a fast step about
// 6 ms in Pyodide, so a frame fits two steps next to the drawing, and the loop would top
// out near 120 steps per second however fast the engine got. Here the tasks run back to
// back (a MessageChannel message, which, unlike setTimeout, has no minimum delay) and the
// browser answers input between any two of them, so no task is long and nearly all of
// the time goes to the work. Drawing every frame cost about 3 ms of layout and paint per
// frame, so the page draws in an animation frame every DRAW_MS instead. If no frame came
// for WAIT_MS (a single scalar-engine step is longer than a frame), the next task waits
// for one, so the page always keeps moving; and since animation frames stop in a hidden
// tab, so does the work.
import { call } from "./bridge.js";

export const BUDGET_MS = 20;
const DRAW_MS = 50;
const WAIT_MS = 100;

export class ShortTasks {
  // work(): one task's work, returning its result; merge(pending, result): results since
  // the last frame as one; onFrame(merged); onDone(merged) when merged.done; onError.
  constructor({ work, merge, onFrame, onDone, onError }) {
    Object.assign(this, { work, merge, onFrame, onDone, onError });
    this.running = false;
    this.run = 0; // tells the tasks of an earlier start (still queued) to do nothing
    this.pending = null; // what the tasks did since the last frame
    this.frameHandle = 0; // the animation frame asked for, if any
    this.waitingForFrame = false;
    this.lastFrame = 0;
    this.channel = new MessageChannel();
    this.channel.port1.onmessage = (event) => this.task(event.data);
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.run += 1;
    this.lastFrame = performance.now();
    this.waitingForFrame = false;
    this.channel.port2.postMessage(this.run);
  }

  // Stops; what ran since the last frame is shown first unless `discard` (the work is
  // being replaced, so its last results no longer matter).
  stop({ discard = false } = {}) {
    this.running = false;
    this.run += 1;
    cancelAnimationFrame(this.frameHandle);
    this.frameHandle = 0;
    if (discard) this.pending = null;
    else this.showPending();
  }

  task(run) {
    if (!this.running || run !== this.run) return;
    let result;
    try {
      result = this.work();
    } catch (error) {
      this.stop();
      this.onError(error);
      return;
    }
    this.pending = this.merge(this.pending, result);
    const sinceFrame = performance.now() - this.lastFrame;
    if (result.done || sinceFrame >= DRAW_MS) this.askForFrame();
    if (result.done) return; // the frame shows it and ends the loop
    if (sinceFrame < WAIT_MS) this.channel.port2.postMessage(run);
    else this.waitingForFrame = true;
  }

  askForFrame() {
    if (!this.frameHandle) this.frameHandle = requestAnimationFrame(() => this.frame());
  }

  frame() {
    this.frameHandle = 0;
    if (!this.running) return;
    this.lastFrame = performance.now();
    this.showPending();
    if (this.running && this.waitingForFrame) {
      this.waitingForFrame = false;
      this.channel.port2.postMessage(this.run);
    }
  }

  // Hands what the tasks did to the page; a result that says done also ends the loop.
  showPending() {
    const pending = this.pending;
    this.pending = null;
    if (!pending) return;
    this.onFrame(pending);
    if (pending.done) {
      this.running = false;
      this.run += 1;
      this.onDone(pending);
    }
  }
}

// Training: Session.train_for in short tasks, with live names.
export function trainingLoop(handlers) {
  return new ShortTasks({ work: () => call("train_for", { budget_ms: BUDGET_MS, live: true }), merge: mergeTraining, ...handlers });
}

// Several answers of train_for as one: the newest step, headline loss and done, every
// loss and validation point, and the newest live names, generation progress and look
// inside the model (insides.js).
function mergeTraining(into, result) {
  if (!into) return { ...result, losses: [...result.losses], val_points: [...result.val_points] };
  into.step = result.step;
  into.done = result.done;
  into.loss = result.loss;
  into.losses.push(...result.losses);
  into.val_points.push(...result.val_points);
  if (result.live) into.live = result.live;
  if (result.job) into.job = result.job;
  if (result.insides) into.insides = result.insides;
  return into;
}

// Generating names when not training: Session.work_for in short tasks.
export function generationLoop(handlers) {
  return new ShortTasks({ work: () => call("work_for", { budget_ms: BUDGET_MS }), merge: (_, result) => result, ...handlers });
}

// A sharing or exporting job (Session.start_share_model, start_export_project): job_for
// in short tasks, beside training if it runs.
export function jobLoop(handlers) {
  return new ShortTasks({ work: () => call("job_for", { budget_ms: BUDGET_MS }), merge: (_, result) => result, ...handlers });
}

// One-off warm-up while the page is idle (Session.prepare), so the first steps are short.
export function warmUpLoop() {
  const noop = () => {};
  return new ShortTasks({ work: () => call("prepare", { budget_ms: BUDGET_MS / 2 }), merge: (_, result) => result, onFrame: noop, onDone: noop, onError: noop });
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
