// Labelled points in 2D (SVG): where the model keeps each letter or position, projected
// on the two principal components Python computes. Points move by a CSS transition on
// `transform`, so a new frame every ~250 ms reads as smooth motion; the picture's scale
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
    this.points = [];
    this.reset();
  }

  // A new model: forget the scale and the points.
  reset() {
    this.scale = null;
    this.labels = [];
    this.layer.replaceChildren();
    this.points = [];
  }

  // points: [[x, y]]; labels: the text of each point; marks: {index: class} to highlight.
  update(points, labels, marks = {}) {
    if (labels.length !== this.labels.length || labels.some((l, i) => l !== this.labels[i])) {
      this.build(labels);
      // New points appear in place rather than flying in from a corner.
      this.root.classList.add("still");
      requestAnimationFrame(() => requestAnimationFrame(() => this.root.classList.remove("still")));
    }
    const spanX = Math.max(1e-9, ...points.map(([x]) => Math.abs(x)));
    const spanY = Math.max(1e-9, ...points.map(([, y]) => Math.abs(y)));
    // One scale for both directions, so distances on the picture mean the same across and up.
    const target = Math.min((WIDTH / 2 - MARGIN) / spanX, (HEIGHT / 2 - MARGIN) / spanY);
    this.scale = this.scale === null || target < this.scale ? target : this.scale * 0.8 + target * 0.2;
    points.forEach(([x, y], i) => {
      const g = this.points[i];
      const px = WIDTH / 2 + x * this.scale;
      const py = HEIGHT / 2 - y * this.scale; // up is positive
      g.style.transform = `translate(${px.toFixed(1)}px, ${py.toFixed(1)}px)`;
      g.dataset.x = x.toFixed(5);
      g.dataset.y = y.toFixed(5);
      g.setAttribute("class", marks[i] ? `point ${marks[i]}` : "point");
    });
  }

  build(labels) {
    this.labels = [...labels];
    this.points = labels.map((label) => {
      const g = svg("g", { class: "point", "data-testid": this.testId });
      g.append(svg("circle", { r: 3.5 }));
      const text = svg("text", { x: 5, y: 4 });
      text.textContent = label; // a character from the data: always text, never markup
      g.append(text);
      return g;
    });
    this.layer.replaceChildren(...this.points);
  }
}
