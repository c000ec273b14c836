// Small helpers the figures share: messages, the latest-answer-wins guard, debouncing.
import { StoppedError } from "./python.js";

// Shows `text` in a figure's message line; `kind` "error" makes it an alert.
export function say(node, text, kind = "info") {
  node.textContent = text;
  node.dataset.kind = kind;
  node.setAttribute("role", kind === "error" ? "alert" : "status");
}

// Wraps an async figure update so only the newest call's answer is drawn (typing
// fast sends several requests; an older answer must not overwrite a newer one).
export function latest(update) {
  let counter = 0;
  return async (...args) => {
    const mine = ++counter;
    const isCurrent = () => mine === counter;
    return update(isCurrent, ...args);
  };
}

export function debounce(fn, ms = 150) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

export const isStop = (error) => error instanceof StoppedError;

export const fmt = (x, digits = 4) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

// A visible name for a character (spaces, the end mark and other invisible ones spelled
// out), as letters.js labels them for every figure.
export { letterLabel as showChar } from "../letters.js";
