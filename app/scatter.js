// Labelled points in 2D (SVG): where the model keeps each letter or position, projected
// on the two principal components Python computes.
//
// Motion: while the model trains, new positions arrive about four times a second and
// the points jump there. Gliding cost too much: a CSS transition animates at the
// display's full frame rate and a glide in the training loop's own frames repaints the
// picture 20 times a second, and in this page either took the training loop several
// percent of its steps (scripts/bench_browser.py --insides). When nothing trains
// (paused, done, a probe changed) a CSS transition glides them. The picture's scale
// follows the points (growing at once, shrinking slowly) so it neither jitters nor clips.
const NS = "http://www.w3.org/2000/svg";
const WIDTH = 400;
const HEIGHT = 210;
const MARGIN = 16; // room for the labels at the edges

function svg(tag, attrs = {}) {
  const node = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  return node;
}

export class Scatter {
  // `svgElement`: an empty <svg> in the page; `testId`: data-testid of every point.
  constructor(svgElement, { testId }) {
    this.root = svgElement;
    this.testId = testId;
    this.root.setAttribute("viewBox", `0 0 ${WIDTH} ${HEIGHT}`);
    this.root.setAttribute("preserveAspectRatio", "xMidYMid meet");
    this.root.append(
      svg("line", { class: "axis", x1: 0, y1: HEIGHT / 2, x2: WIDTH, y2: HEIGHT / 2 }),
      svg("line", { class: "axis", x1: WIDTH / 2, y1: 0, x2: WIDTH / 2, y2: HEIGHT }),
    );
    this.layer = this.root.appendChild(svg("g"));
    this.reset();
  }

  // A new model: forget the scale and the points.
  reset() {
    this.scale = null;
    this.labels = [];
    this.points = []; // {g, x, y (in the viewBox), className}
    this.layer.replaceChildren();
  }

  // points: [[x, y]]; labels: the text of each point; marks: {index: class} to highlight.
  update(points, labels, marks = {}) {
    const fresh = labels.length !== this.labels.length || labels.some((l, i) => l !== this.labels[i]);
    if (fresh) this.build(labels);
    const spanX = Math.max(1e-9, ...points.map(([x]) => Math.abs(x)));
    const spanY = Math.max(1e-9, ...points.map(([, y]) => Math.abs(y)));
    // One scale for both directions, so distances on the picture mean the same across and up.
    const target = Math.min((WIDTH / 2 - MARGIN) / spanX, (HEIGHT / 2 - MARGIN) / spanY);
    this.scale = this.scale === null || target < this.scale ? target : this.scale * 0.8 + target * 0.2;
    points.forEach(([x, y], i) => {
      const point = this.points[i];
      const className = marks[i] ? `point ${marks[i]}` : "point";
      if (point.className !== className) point.g.setAttribute("class", (point.className = className));
      this.place(point, WIDTH / 2 + x * this.scale, HEIGHT / 2 - y * this.scale); // up is positive
    });
    if (fresh) {
      // New points appear in place rather than flying in from a corner.
      this.root.classList.add("still");
      requestAnimationFrame(() => requestAnimationFrame(() => this.root.classList.remove("still")));
    }
  }

  place(point, x, y) {
    if (Math.abs(point.x - x) + Math.abs(point.y - y) < 0.05) return; // not worth a repaint
    point.x = x;
    point.y = y;
    point.g.style.transform = `translate(${x.toFixed(1)}px, ${y.toFixed(1)}px)`;
  }

  build(labels) {
    this.labels = [...labels];
    this.points = labels.map((label) => {
      const g = svg("g", { class: "point", "data-testid": this.testId });
      g.append(svg("circle", { r: 3.5 }));
      const text = svg("text", { x: 5, y: 4 });
      text.textContent = label; // a character from the data: always text, never markup
      g.append(text);
      return { g, x: -1, y: -1, className: "point" };
    });
    this.layer.replaceChildren(...this.points.map((p) => p.g));
  }
}
