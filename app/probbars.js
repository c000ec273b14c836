// Next-letter probability bars: the one way both pages draw them (the lessons' sampling
// figure and the playground's "Letter by letter"), so a reader sees the same labels in
// each: the end mark (BOS) is "↵ end", a space is "␣ space".
//
//   renderProbBars(list, probs, { top, chosen })
//     list    an <ol> or <ul>; its items are replaced
//     probs   [[ch, p], ...] most likely first, as Model.next_token_probs gives them;
//             ch "" is the end mark
//     top     how many bars to show (the likeliest; default 12)
//     chosen  the character just drawn (highlighted), or null
//
// Every bar is an <li data-testid="next-letter-bar" data-ch data-p> with a label, a
// track whose fill is as wide as the probability, and the percentage; the list gets an
// accessible description that says what is shown and what was drawn.
import { el } from "./dom.js";

export const END_LABEL = "↵ end";
export const SPACE_LABEL = "␣ space";

// A character as every figure shows it: the end mark, spaces and other invisible
// characters spelled out.
export function letterLabel(ch) {
  if (ch === "") return END_LABEL;
  if (ch === " ") return SPACE_LABEL;
  if (/\s/.test(ch)) return `U+${ch.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
  return ch;
}

// The same, as a screen reader should say it.
export function spokenLetter(ch) {
  if (ch === "") return "end of the name";
  if (ch === " ") return "space";
  return letterLabel(ch);
}

const percent = (p) => `${(100 * p).toFixed(1)}%`;

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
