// Small helpers both pages use: elements, text, errors and downloads. Text
// from users and from Python is always set as text (textContent), never as HTML.

export const $ = (id) => document.getElementById(id);

// An error that is the reader's to fix (bad input), shown as its message alone.
export class UserError extends Error {
  constructor(message) {
    super(message);
    this.kind = "user";
  }
}

// Sets a node's text only when it changed: a write costs the browser a layout, and the
// panels that update several times a second mostly write what is already there.
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

// The one place errors reach the reader: the `error` region (role="alert").
export function showError(message, details = "") {
  const box = $("error");
  box.replaceChildren(el("p", { textContent: message }));
  if (details) {
    const more = el("details", {}, el("summary", { textContent: "Details for a bug report" }));
    more.append(el("pre", { textContent: details }));
    box.append(more);
  }
  const dismiss = el("button", { type: "button", textContent: "Dismiss", className: "dismiss" });
  dismiss.addEventListener("click", clearError);
  box.append(dismiss);
  box.hidden = false;
}

export function clearError() {
  $("error").hidden = true;
  $("error").replaceChildren();
}

// Saves `blob` as a download named `filename`.
export function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function formatLoss(x) {
  return Number.isFinite(x) ? x.toFixed(4) : "–";
}
