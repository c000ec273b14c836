// The live loss chart, drawn by uPlot (small, fast, made for streaming time series):
// the raw loss of each step, an exponential moving average, and the validation loss.
import uPlot from "../vendor/uplot/uPlot.esm.js";

const SMOOTHING = 0.95;
const REDRAW_MS = 150; // the chart redraws a few times a second, not every frame

export class LossChart {
  constructor(container) {
    this.container = container;
    this.reset();
    this.plot = new uPlot(this.options(), this.data(), container);
    new ResizeObserver(() => this.fit()).observe(container);
    this.lastDraw = 0;
  }

  options() {
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

  data() {
    return [this.steps, this.raw, this.smooth, this.val];
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
