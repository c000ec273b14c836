// The live loss chart, drawn by uPlot (small, fast, made for streaming time series):
// the loss of each step, its exponential moving average (labelled as such: the number the
// page quotes as "the loss" is Python's, see main.js), the validation loss, and earlier
// runs of this browser as faint curves (their moving averages and validation losses).
//
// The chart keeps the page's one copy of the run's loss history (`losses`, the moving
// average `smoothed` step by step, and the validation points): the run history reads it
// from here at each save instead of copying it or computing the average again.
import uPlot from "../vendor/uplot/uPlot.esm.js";

const SMOOTHING = 0.95;
const REDRAW_MS = 150; // the chart redraws a few times a second, not every frame
const HISTORY_COLORS = ["#7a8a99", "#a0785a", "#6f9a6f", "#9a6f9a", "#b08a3c"];

export class LossChart {
  constructor(container) {
    this.container = container;
    this.others = []; // earlier runs: [{label, curve: [[step, loss]], val: [[step, loss]], steps}]
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
    const faint = this.others.flatMap((run, i) => {
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
        { label: "moving average", stroke: "#2456c8", width: 2 },
        { label: "validation", stroke: "#d2551e", width: 2, spanGaps: true, points: { show: true, size: 6 } },
        ...faint,
      ],
    };
  }

  reset() {
    this.losses = []; // the loss of step i + 1
    this.smoothed = []; // their moving average, step by step
    this.valPoints = []; // [[step, loss]] of validation measurements
  }

  // The run's loss history, as kept here (read it, do not change it).
  get history() {
    return { losses: this.losses, smoothed: this.smoothed, valPoints: this.valPoints };
  }

  // Earlier runs to draw faintly beside this one (history.js chooses which).
  setOthers(runs) {
    this.others = runs;
    this.build();
  }

  // One x axis for everything: steps 1..the longest run; a run's curves are null where it
  // has no point (uPlot joins their points across the gaps).
  data() {
    const length = Math.max(this.losses.length, ...this.others.map((run) => run.steps || 0));
    const pad = (values) => (values.length >= length ? values : values.concat(new Array(length - values.length).fill(null)));
    const x = Array.from({ length }, (_, i) => i + 1);
    const spread = (points) => {
      const series = new Array(length).fill(null);
      for (const [step, loss] of points) if (step >= 1 && step <= length) series[step - 1] = loss;
      return series;
    };
    const faint = this.others.flatMap((run) => [spread(run.curve), spread(run.val)]);
    return [x, pad(this.losses), pad(this.smoothed), spread(this.valPoints), ...faint];
  }

  // losses: the losses of the steps after those already here; valPoints: [[step, loss]]
  // of new validation measurements.
  add(losses, valPoints = []) {
    let average = this.smoothed.at(-1) ?? null;
    for (const loss of losses) {
      average = average === null ? loss : SMOOTHING * average + (1 - SMOOTHING) * loss;
      this.losses.push(loss);
      this.smoothed.push(average);
    }
    for (const point of valPoints) this.valPoints.push(point);
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
