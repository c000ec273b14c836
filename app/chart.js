// The live loss chart, drawn by uPlot (small, fast, made for streaming time series):
// the raw loss of each step, an exponential moving average, the validation loss, and
// earlier runs of this browser as faint curves (their smoothed and validation losses).
import uPlot from "../vendor/uplot/uPlot.esm.js";

export const SMOOTHING = 0.95;
const REDRAW_MS = 150; // the chart redraws a few times a second, not every frame
const HISTORY_COLORS = ["#7a8a99", "#a0785a", "#6f9a6f", "#9a6f9a", "#b08a3c"];

// The moving average the chart draws, for a whole loss history (also what history.js
// keeps of a run).
export function smooth(losses) {
  let ema = null;
  return losses.map((loss) => (ema = ema === null ? loss : SMOOTHING * ema + (1 - SMOOTHING) * loss));
}

export class LossChart {
  constructor(container) {
    this.container = container;
    this.history = []; // [{label, curve: [[step, loss]], val: [[step, loss]]}]
    this.reset();
    this.build();
    new ResizeObserver(() => this.fit()).observe(container);
    this.lastDraw = 0;
  }

  build() {
    this.plot?.destroy();
    this.plot = new uPlot(this.options(), this.data(), this.container);
  }

  options() {
    const faint = this.history.flatMap((run, i) => {
      const color = HISTORY_COLORS[i % HISTORY_COLORS.length];
      return [
        { label: `${run.label} (train)`, stroke: `${color}99`, width: 1.5, spanGaps: true, dash: [] },
        { label: `${run.label} (validation)`, stroke: `${color}cc`, width: 1.5, spanGaps: true, dash: [4, 3] },
      ];
    });
    return {
      width: Math.max(280, this.container.clientWidth),
      height: 240,
      scales: { x: { time: false } },
      axes: [{ label: "step" }, { label: "loss", size: 50 }],
      legend: { live: false },
      series: [
        { label: "step" },
        { label: "loss", stroke: "rgba(90,120,200,0.35)", width: 1 },
        { label: "smoothed", stroke: "#2456c8", width: 2 },
        { label: "validation", stroke: "#d2551e", width: 2, spanGaps: true, points: { show: true, size: 6 } },
        ...faint,
      ],
    };
  }

  reset() {
    this.steps = [];
    this.raw = [];
    this.smooth = [];
    this.val = [];
    this.ema = null;
  }

  // Earlier runs to draw faintly beside this one (history.js chooses which).
  setHistory(runs) {
    this.history = runs;
    this.build();
  }

  // One x axis for everything: steps 1..the longest run; a run's curves are null where it
  // has no point (uPlot joins their points across the gaps).
  data() {
    const length = Math.max(this.steps.length, ...this.history.map((run) => run.steps || 0));
    const pad = (values) => (values.length >= length ? values : values.concat(new Array(length - values.length).fill(null)));
    const x = Array.from({ length }, (_, i) => i + 1);
    const faint = this.history.flatMap((run) => [run.curve, run.val].map((points) => {
      const series = new Array(length).fill(null);
      for (const [step, loss] of points) if (step >= 1 && step <= length) series[step - 1] = loss;
      return series;
    }));
    return [x, pad(this.raw), pad(this.smooth), pad(this.val), ...faint];
  }

  // losses: the new per-step losses, the first of them for step `firstStep` (1-based);
  // valPoints: [[step, loss]] of validation measurements.
  add(firstStep, losses, valPoints = []) {
    losses.forEach((loss, i) => {
      this.ema = this.ema === null ? loss : SMOOTHING * this.ema + (1 - SMOOTHING) * loss;
      this.steps.push(firstStep + i);
      this.raw.push(loss);
      this.smooth.push(this.ema);
      this.val.push(null);
    });
    for (const [step, loss] of valPoints) {
      if (step >= 1 && step <= this.val.length) this.val[step - 1] = loss;
    }
  }

  get smoothed() {
    return this.ema;
  }

  draw(force = false) {
    const now = performance.now();
    if (!force && now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    this.plot.setData(this.data());
  }

  fit() {
    this.plot.setSize({ width: Math.max(280, this.container.clientWidth), height: 240 });
  }
}
