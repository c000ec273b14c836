// The "Inside the model" panel: while the model trains, where it keeps each letter (the
// embeddings, flattened to 2D), what each attention head reads in a probe name, and the
// next-letter probabilities after a probe prefix. Python computes all of it
// (tinygpt.insides) inside the training tasks, at most every 400 ms and within their time
// budget: the panel turns that on with Session.set_insides while it is open, and
// train_for's answers then carry `insides`, which the loop hands to the "step" event.
// Paused, done, or for a loaded model, the panel asks once. Closed, it costs nothing.
import { call } from "./bridge.js";
import { $, el, setText } from "./dom.js";
import { heatmap, headName, paintHeatmap } from "./heatmap.js";
import { letterLabel } from "./letters.js";
import { paintProbBars } from "./probbars.js";
import { Scatter } from "./scatter.js";

const WIDE = "(min-width: 62rem)"; // open by default where it sits next to the chart
const BARS = 10;
const MAX_MAPS = 16; // heatmaps drawn at most (a big model has up to 8 x 64 heads)
const TYPE_MS = 200; // a pause in typing before Python is asked

// A character where a label must be one character wide: points, heatmap headers.
const mark = (ch) => letterLabel(ch, { short: true });
const percent = (p) => `${(p * 100).toFixed(1)}%`;

export function installInsides(app) {
  const panel = new InsidesPanel(app);
  window.tinygptInsides = panel; // for debugging in the console
  return panel;
}

class InsidesPanel {
  constructor(app) {
    this.app = app;
    this.letters = new Scatter($("insides-letters"), { testId: "embedding-point" });
    this.positions = new Scatter($("insides-positions"), { testId: "position-point" });
    this.active = false; // whether Python gathers the panel's data while training
    this.live = false; // whether the data on show comes from a model in training
    this.timer = 0;
    this.asked = 0; // answers of an earlier ask are not drawn over newer ones
    this.version = 0; // of the options last set (Session.set_insides): older data is dropped
    this.temperature = 0.5;
    this.resetProbes();
    this.wire();
    this.showMap();
    this.setOpen(window.matchMedia(WIDE).matches);
  }

  wire() {
    const app = this.app;
    $("insides-toggle").addEventListener("click", () => this.setOpen(!this.isOpen()));
    $("probe-name").addEventListener("input", () => {
      this.nameEdited = true;
      this.edited = "name";
      this.schedule(TYPE_MS);
    });
    $("probe-prefix").addEventListener("input", () => {
      this.edited = "prefix";
      this.schedule(TYPE_MS);
    });
    $("temperature").addEventListener("input", () => this.schedule(TYPE_MS));
    $("insides-letter").addEventListener("change", (event) => {
      this.letter = this.vocab[Number(event.target.value)] ?? null;
      this.schedule();
    });
    for (const radio of document.querySelectorAll("input[name=insides-map]")) {
      radio.addEventListener("change", () => {
        this.showMap();
        this.schedule();
      });
    }
    app.on("step", (result) => this.onStep(result));
    const changed = () => {
      this.resetProbes();
      this.schedule();
    };
    app.on("run", changed);
    app.on("model", changed);
    app.on("state", () => this.schedule()); // paused, done, restored: the model as it is now
  }

  isOpen() {
    return $("insides-toggle").getAttribute("aria-expanded") === "true";
  }

  setOpen(open) {
    $("insides-toggle").setAttribute("aria-expanded", String(open));
    $("insides-body").hidden = !open;
    $("insides").dataset.open = String(open);
    this.schedule();
  }

  // A new run or model: the probes go back to their defaults (the model's own name).
  resetProbes() {
    this.nameEdited = false;
    this.edited = null;
    this.letter = null;
    this.vocab = [];
    this.vocabKey = "";
    this.mapKey = "";
    $("probe-name").value = "";
    $("probe-prefix").value = "";
    this.letters.reset();
    this.positions.reset();
    this.clearErrors();
  }

  options() {
    const value = Number($("temperature").value);
    if (Number.isFinite(value) && value > 0 && value <= 100) this.temperature = value;
    return {
      probe_name: this.nameEdited ? $("probe-name").value : null, // null: Python's default
      probe_prefix: $("probe-prefix").value,
      temperature: this.temperature,
      letter: this.letter,
      positions: this.mapShown() === "positions",
    };
  }

  mapShown() {
    return document.querySelector("input[name=insides-map]:checked")?.value || "letters";
  }

  showMap() {
    const positions = this.mapShown() === "positions";
    $("insides-letters").toggleAttribute("hidden", positions); // an <svg> has no .hidden
    $("insides-positions").toggleAttribute("hidden", !positions);
    $("insides-neighbour-row").hidden = positions;
  }

  // Asks Python in a task of its own (never inside an input handler or a frame).
  schedule(delay = 0) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.sync(), delay);
  }

  sync() {
    const app = this.app;
    if (app.state === "loading") return;
    if (!this.isOpen() || !app.info) {
      if (this.active) {
        try {
          call("set_insides", { options: null });
        } catch {
          // nothing to turn off
        }
        this.active = false;
      }
      if (!app.info) this.clear();
      return;
    }
    let data;
    try {
      data = call("set_insides", { options: this.options() }); // the model now, too
      this.active = true;
    } catch (error) {
      this.fail(error);
      return;
    }
    // Drawn in a task of its own: the first drawing builds every table and point, and
    // together with Python's look it could make a long task.
    const asked = ++this.asked;
    if (data) {
      this.version = data.version;
      setTimeout(() => asked === this.asked && this.show(data));
    }
  }

  // What the training tasks brought since the last frame drawn, if the panel asked; not
  // data gathered with the options before the last change (a frame can bring it after).
  onStep(result) {
    const data = result.insides;
    if (!data || !this.isOpen() || data.version < this.version) return;
    if (data.error) this.fail({ message: data.error, kind: "user" });
    else this.show(data);
  }

  // A probe Python cannot read: said next to the field typed in last; the views keep
  // showing the last good state.
  fail(error) {
    if (error.kind !== "user") {
      this.app.showError(error);
      return;
    }
    this.clearErrors();
    const field = { name: "probe-name", prefix: "probe-prefix" }[this.edited];
    if (field) {
      $(`err-${field}`).textContent = error.message;
      $(field).setAttribute("aria-invalid", "true");
    } else {
      $("insides-message").textContent = error.message;
    }
  }

  clearErrors() {
    for (const field of ["probe-name", "probe-prefix"]) {
      setText($(`err-${field}`), "");
      if ($(field).getAttribute("aria-invalid") !== "false") $(field).setAttribute("aria-invalid", "false");
    }
    setText($("insides-message"), "");
  }

  // No model (a new page, "New run"): nothing to show.
  clear() {
    this.asked += 1; // an answer still to be drawn is out of date
    setText($("insides-status"), "Train a model, or open one, to see inside it.");
    $("insides").dataset.step = "";
    this.letters.reset();
    this.positions.reset();
    this.mapKey = "";
    for (const id of ["insides-heatmaps", "insides-attention-text", "insides-bars"]) $(id).replaceChildren();
    for (const id of ["insides-axes", "insides-neighbours", "insides-attention-note", "insides-next-caption"]) setText($(id), "");
  }

  show(data) {
    this.clearErrors();
    const state = this.app.state;
    this.live = state === "training";
    if ($("insides").dataset.live !== String(this.live)) $("insides").dataset.live = String(this.live);
    setText(
      $("insides-status"),
      data.step === null
        ? "A model you opened, as it was saved."
        : state === "training"
          ? `Live, step ${data.step.toLocaleString("en")}: the views follow the training a few times a second.`
          : `At step ${data.step.toLocaleString("en")}${state === "done" ? ", the end of training" : ""}.`,
    );
    $("insides").dataset.step = data.step === null ? "loaded" : String(data.step);
    this.showEmbeddings(data);
    this.showAttention(data.attention, data.too_big);
    this.showNext(data.next, data.too_big);
  }

  showEmbeddings(data) {
    const { vocab, embeddings, positions, neighbours } = data;
    const key = vocab.join("\u0000");
    if (key !== this.vocabKey) {
      this.vocabKey = key;
      this.vocab = vocab;
      $("insides-letter").replaceChildren(
        ...vocab.map((ch, i) =>
          el("option", {
            value: String(i),
            textContent: ch === "" ? `${mark(ch)} (BOS, the end mark)` : letterLabel(ch),
          }),
        ),
      );
    }
    const chosen = vocab.indexOf(neighbours.letter);
    if ($("insides-letter").value !== String(chosen)) $("insides-letter").value = String(chosen);
    this.letter = neighbours.letter;
    const marks = { [chosen]: "chosen" };
    for (const [ch] of neighbours.nearest) marks[vocab.indexOf(ch)] = "near";
    this.letters.update(embeddings.points, vocab.map(mark), marks);
    if (positions) this.positions.update(positions.points, positions.points.map((_, i) => String(i)));
    const shown = this.mapShown() === "positions" && positions ? positions : embeddings;
    const [across, up] = shown.explained;
    setText($("insides-axes"), `Across: ${percent(across)} of the spread; up: ${percent(up)}.`);
    setText($("insides-neighbours"), neighbours.nearest.map(([ch, d]) => `${mark(ch)} (${d.toFixed(2)})`).join(", "));
    setText($("insides-dims"), String(neighbours.dims));
  }

  showAttention(attention, tooBig) {
    if (!attention) {
      // A model too big to probe live (tinygpt.insides.MAX_PROBE_WORK): say so, draw none.
      this.mapKey = "";
      $("insides-heatmaps").replaceChildren();
      $("insides-attention-text").replaceChildren();
      setText($("insides-attention-note"), tooBig);
      return;
    }
    const tokens = attention.tokens.map(mark);
    const layers = attention.layers;
    const heads = layers.flatMap((layer, l) => layer.map((weights, h) => ({ weights, l, h })));
    const shown = heads.slice(0, MAX_MAPS);
    const key = JSON.stringify([tokens, layers.length, layers[0].length]);
    const maps = $("insides-heatmaps");
    if (key !== this.mapKey) {
      this.mapKey = key;
      maps.replaceChildren(
        ...shown.map(({ weights, l, h }) =>
          heatmap(weights, tokens, { caption: headName(l, h, layers.length), numbers: false, cellTestId: "attention-cell" }),
        ),
      );
    } else {
      const options = { numbers: false, titles: !this.live };
      shown.forEach(({ weights }, i) => paintHeatmap(maps.children[i], weights, tokens, options));
    }
    if (!this.nameEdited && document.activeElement !== $("probe-name") && $("probe-name").value !== attention.name) {
      $("probe-name").value = attention.name;
    }
    const notes = [];
    if (attention.cut > 0) notes.push(`The model sees ${tokens.length} positions, so the last ${attention.cut} letter(s) are left out.`);
    if (heads.length > shown.length) notes.push(`Showing ${shown.length} of ${heads.length} heads.`);
    setText($("insides-attention-note"), notes.join(" "));
    const lines = shown.map(({ l, h }) => {
      const most = attention.most_attended[l][h];
      return `${headName(l, h, layers.length)}: ${tokens.map((t, q) => `${t} → ${tokens[most[q]]}`).join(", ")}`;
    });
    const list = $("insides-attention-text");
    if (list.children.length !== lines.length) list.replaceChildren(...lines.map(() => el("li")));
    lines.forEach((line, i) => setText(list.children[i], line));
  }

  showNext(next, tooBig) {
    if (!next) {
      $("insides-bars").replaceChildren();
      setText($("insides-next-caption"), tooBig);
      return;
    }
    paintProbBars($("insides-bars"), next.probs, BARS);
    const after = next.prefix ? `After “${next.prefix}”` : "As the first letter";
    setText($("insides-next-caption"), `${after}, at temperature ${next.temperature}:`);
  }
}
