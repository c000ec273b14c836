// Generating: a list of names at a temperature, one name letter by letter with the
// model's next-letter probabilities drawn as bars, so people see why a letter came, and
// the live names a run writes while it trains.
// Python does all of it: the names are a job it advances a letter at a time in short
// tasks (generationLoop, or the training loop while training), so even the biggest model
// the page opens never freezes it, and Stop cancels; "Next letter" keeps the keys and
// values of the letters before it, so each letter is one position of work, and draws
// with Python's seeded random like every other draw.
import { call } from "./bridge.js";
import { $, clearError, el } from "./dom.js";
import { generationLoop } from "./loop.js";
import { renderProbBars } from "./probbars.js";
import { readGenerateForm, temperature } from "./settings.js";

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
    $("generate").addEventListener("click", () => this.start());
    $("stop-generate").addEventListener("click", () => this.cancel("Stopped."));
  }

  start() {
    clearError();
    const options = readGenerateForm();
    if (!options) return;
    let answer;
    try {
      answer = call("start_generate", options);
    } catch (error) {
      this.app.showError(error);
      return;
    }
    this.job = { id: answer.job, options };
    $("samples").dataset.state = "running";
    this.busy(true, "Generating…");
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
    this.busy(false, "");
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
