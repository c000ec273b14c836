// Generating: a list of names at a temperature, one name letter by letter with the
// model's next-letter probabilities drawn as bars, so people see why a letter came, and
// the live names a run writes while it trains.
// Python does all of it: the names are a job it advances a letter at a time in short
// tasks (generationLoop, or the training loop while training), so even the biggest model
// the page opens never freezes it, and Stop cancels; "Next letter" keeps the keys and
// values of the letters before it, so each letter is one position of work, and draws
// with Python's seeded random like every other draw. "Generate as microgpt.py does"
// draws the way microgpt.py ends its run: the run's own random generator, no seed.
import { call } from "./bridge.js";
import { $, clearError, el } from "./dom.js";
import { generationLoop } from "./loop.js";
import { renderProbBars } from "./probbars.js";
import { readGenerateForm, schema, temperature } from "./settings.js";

const MICROGPT = schema.microgpt_samples; // {n, temperature}: what microgpt.py prints

// Whether "Generate as microgpt.py does" means something for what is on the page, and why
// not: microgpt.py draws after its last step, with the generator that shuffled the names
// and drew the weights, which only a run trained here (or restored) still has.
export function microgptDraw(state, info) {
  if (state === "loading") return { ok: false, why: "" };
  if (!info) return { ok: false, why: "Train a run first: microgpt.py draws its names after its last step, with the run's own random generator." };
  if (!info.trainable) return { ok: false, why: "This model was opened, not trained here: it has no run's random generator (only a run trained in this page has one)." };
  if (!info.done) return { ok: false, why: "Once this run is done: microgpt.py draws its names after its last step." };
  return {
    ok: true,
    why: `${MICROGPT.n} names at temperature ${MICROGPT.temperature}, drawn with this run's own random generator where training left it (no seed: the same names each time). With the microgpt recipe on makemore's names.txt, these are the names microgpt.py printed.`,
  };
}

// Live names: while a run trains, Python makes a few names at temperature 0.5 every
// second or so (Session.train_for, with the weights of the step they start at), and
// they appear with that step, so people watch gibberish turn into names.
export function installLive(app) {
  app.on("live", ({ step, names }) => {
    $("live-step").textContent = `step ${step.toLocaleString("en")}`;
    $("live-samples").replaceChildren(...names.map((name) => el("li", { textContent: name || "(empty)", dataset: { testid: "live-sample" } })));
    $("live").hidden = false;
  });
  app.on("run", (info) => {
    if (!info || !info.restored) {
      $("live").hidden = true;
      $("live-samples").replaceChildren();
    }
  });
}

export function showSamples(names) {
  $("samples").dataset.state = "done";
  $("samples").replaceChildren(
    ...names.map((name) => el("li", { textContent: name || "(empty)", dataset: { testid: "sample" } })),
  );
}

export class Generator {
  constructor(app) {
    this.app = app;
    this.job = null; // {id, options}
    this.loop = generationLoop({
      onFrame: (answer) => this.progress(answer),
      onDone: () => {},
      onError: (error) => this.fail(error),
    });
    app.on("step", (result) => result.job && this.progress(result.job));
    app.on("state", () => this.showMicrogpt());
    $("generate").addEventListener("click", () => this.start());
    $("generate-microgpt").addEventListener("click", () => this.startMicrogpt());
    $("stop-generate").addEventListener("click", () => this.cancel("Stopped."));
  }

  showMicrogpt() {
    const { ok, why } = microgptDraw(this.app.state, this.app.info);
    $("generate-microgpt").disabled = !ok || !!this.job;
    $("microgpt-note").textContent = why;
  }

  start() {
    clearError();
    const options = readGenerateForm();
    if (options) this.run(options, "Generating…");
  }

  startMicrogpt() {
    clearError();
    const options = { n: MICROGPT.n, temperature: MICROGPT.temperature, prefix: "", seed: null, run_rng: true };
    this.run(options, "Drawing as microgpt.py does…");
  }

  run(options, text) {
    let answer;
    try {
      answer = call("start_generate", options);
    } catch (error) {
      this.app.showError(error);
      return;
    }
    this.job = { id: answer.job, options };
    $("samples").dataset.state = "running";
    this.busy(true, text);
    // While training, the training loop's tasks advance the job too; otherwise ours do.
    if (this.app.state !== "training") this.loop.start();
  }

  progress(answer) {
    if (!this.job || answer.job !== this.job.id) return;
    if (!answer.done) {
      $("generate-status").textContent = `Generating… ${answer.letters.toLocaleString("en")} letters so far.`;
      return;
    }
    const { options } = this.job;
    this.job = null;
    this.loop.stop({ discard: true });
    this.app.lastSamples = { ...options, names: answer.names };
    showSamples(answer.names);
    this.busy(false, options.run_rng ? "Drawn as microgpt.py does: the run's own random generator, no seed." : "");
  }

  cancel(message) {
    if (!this.job) return;
    this.job = null;
    this.loop.stop({ discard: true });
    $("samples").dataset.state = "stopped";
    try {
      call("cancel_generate");
    } catch {
      // nothing to cancel in Python (the model was replaced)
    }
    this.busy(false, message);
  }

  fail(error) {
    this.job = null;
    this.busy(false, "");
    this.app.showError(error);
  }

  busy(on, text) {
    $("generate").disabled = on || !this.app.info;
    $("stop-generate").hidden = !on;
    $("generate-status").textContent = text;
    this.showMicrogpt();
  }
}

// One generation, letter by letter.
export class LetterStepper {
  constructor(app) {
    this.app = app;
    this.started = false;
    this.finished = false;
    $("next-letter").addEventListener("click", () => this.next());
    $("restart-letters").addEventListener("click", () => this.restart());
  }

  reset() {
    this.started = false;
    this.finished = false;
    $("letters-so-far").textContent = "";
    $("prob-bars").replaceChildren();
  }

  restart() {
    this.reset();
    this.begin();
  }

  begin() {
    const seed = $("gen-seed").value.trim() === "" ? null : Number($("gen-seed").value);
    try {
      this.show(call("letters_start", { temperature: temperature(), seed: Number.isInteger(seed) ? seed : null }));
      this.started = true;
    } catch (error) {
      this.app.showError(error);
    }
  }

  next() {
    if (!this.started) this.begin();
    if (!this.started || this.finished) return;
    try {
      this.show(call("letters_next", { temperature: temperature() }));
    } catch (error) {
      this.app.showError(error);
    }
  }

  show(answer) {
    this.finished = answer.done;
    $("letters-so-far").textContent = answer.done ? `${answer.text} (end)` : answer.text;
    // The bars show what comes next; at the end, what the last letter was drawn from.
    if (!answer.done) renderProbBars($("prob-bars"), answer.probs);
    else if (this.lastProbs && answer.chosen) renderProbBars($("prob-bars"), this.lastProbs, { chosen: answer.chosen.ch });
    this.lastProbs = answer.probs;
  }
}
