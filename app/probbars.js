// Next-letter probability bars, drawn the same way on both pages (the lessons' sampling
// figure, the playground's "Letter by letter" and its "Inside the model" panel), with the
// characters labelled as letters.js labels them: the end mark (BOS) is "↵ end", a space
// "␣ space".
//
//   renderProbBars(list, probs, { top, chosen })    builds the bars anew
//   paintProbBars(list, probs, count)               repaints them in place
//     list    an <ol> or <ul>; its items are the bars
//     probs   [[ch, p], ...] most likely first, as Model.next_token_probs gives them;
//             ch "" is the end mark
//     top     how many bars to show (the likeliest; default 12)
//     chosen  the character just drawn (highlighted), or null
//
// Every bar is an <li data-testid="next-letter-bar"> with a label, a track whose fill is
// as wide as the probability, and the percentage.
import { el, setText } from "./dom.js";
import { letterLabel, spokenLetter } from "./letters.js";

const percent = (p) => `${(100 * p).toFixed(1)}%`;

// Also gives each bar data-ch and data-p, and the list an accessible description that
// says what is shown and what was drawn.
export function renderProbBars(list, probs, { top = 12, chosen = null } = {}) {
  const shown = probs.slice(0, top);
  list.replaceChildren(...shown.map(([ch, p]) => {
    const isChosen = chosen !== null && ch === chosen;
    const fill = el("span", { className: "bar-fill" });
    fill.style.width = percent(p);
    const item = el("li", { className: isChosen ? "bar chosen" : "bar", dataset: { testid: "next-letter-bar", ch, p: p.toFixed(6) } },
      el("span", { className: "bar-label", textContent: letterLabel(ch) }),
      el("span", { className: "bar-track" }, fill),
      el("span", { className: "bar-value", textContent: percent(p) }));
    item.setAttribute("aria-label", `${spokenLetter(ch)}: ${percent(p)}${isChosen ? ", drawn" : ""}`);
    return item;
  }));
  const others = probs.length - shown.length;
  const rest = probs.slice(top).reduce((sum, [, p]) => sum + p, 0);
  let description = `The ${shown.length} likeliest next letters, most likely first`;
  if (others > 0) description += `; the other ${others} share ${percent(rest)}`;
  if (chosen !== null) {
    const drawn = probs.find(([ch]) => ch === chosen);
    description += `. Drawn: ${spokenLetter(chosen)}${drawn ? `, which had ${percent(drawn[1])}` : ""}`;
  }
  list.setAttribute("aria-description", `${description}.`);
}

// For bars that change several times a second (the "Inside the model" panel while the
// model trains): the items are built once and then only repainted, and the fills are
// scaled, not resized, so an update costs no layout.
export function paintProbBars(list, probs, count) {
  const top = probs.slice(0, count);
  if (list.children.length !== top.length) {
    list.replaceChildren(...top.map(() => el("li", { className: "bar", dataset: { testid: "next-letter-bar" } },
      el("span", { className: "bar-label" }),
      el("span", { className: "bar-track" }, el("span", { className: "bar-fill" })),
      el("span", { className: "bar-value" }))));
  }
  top.forEach(([ch, p], i) => {
    const item = list.children[i];
    const [name, track, value] = item.children;
    setText(name, letterLabel(ch));
    setText(value, percent(p));
    track.firstChild.style.transform = `scaleX(${p.toFixed(4)})`;
    const spoken = `${spokenLetter(ch)}: ${percent(p)}`;
    if (item.getAttribute("aria-label") !== spoken) item.setAttribute("aria-label", spoken);
  });
}
