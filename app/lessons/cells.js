// Code cells: a CodeMirror editor with Run, Stop and Reset, and the output under it.
// All cells share one Python worker (so cells of a lesson share variables, like a
// notebook); Stop restarts that worker, which ends whatever was running.
import { el } from "../dom.js";
import { createEditor, setText, textOf } from "./editor.js";
import { StoppedError } from "./python.js";

const cells = [];

export function setupCells(root, worker, onSuccess) {
  root.querySelectorAll("[data-testid=code-cell]").forEach((box, index) => {
    cells.push(makeCell(box, index, worker, onSuccess));
  });
  worker.onState((state) => {
    for (const cell of cells) cell.setPython(state);
  });
}

function makeCell(box, index, worker, onSuccess) {
  const source = box.querySelector(".cell-source");
  const original = source.textContent;
  const scope = box.dataset.scope;
  const number = [...document.querySelectorAll(`[data-testid=code-cell][data-scope="${scope}"]`)].indexOf(box) + 1;
  const label = `Python code, cell ${number} of the ${scope} lesson`;

  const run = el("button", { type: "button", className: "run", textContent: "Run", dataset: { testid: "run" } });
  const stop = el("button", { type: "button", textContent: "Stop", hidden: true, dataset: { testid: "stop" } });
  const reset = el("button", { type: "button", textContent: "Reset", dataset: { testid: "reset-cell" } });
  const state = el("span", { className: "cell-state muted", dataset: { testid: "cell-state" } });
  const output = el("pre", { className: "cell-output", dataset: { testid: "cell-output" }, hidden: true });
  output.setAttribute("aria-live", "polite");
  output.setAttribute("aria-label", `Output of cell ${number}`);
  run.setAttribute("aria-label", `Run cell ${number}`);
  stop.setAttribute("aria-label", `Stop cell ${number}`);
  reset.setAttribute("aria-label", `Reset cell ${number} to its original code`);

  const holder = el("div", { className: "editor" });
  const view = createEditor({ doc: original, parent: holder, label, onRun: () => runCell() });
  source.replaceWith(holder);
  box.append(el("div", { className: "cell-bar" }, run, stop, reset, state), output);
  box.editor = view; // for tests and the console

  let running = false;

  function print(stream, text) {
    output.hidden = false;
    const last = output.lastChild;
    // Consecutive text of one stream goes into one span: big outputs stay cheap.
    if (last && last.dataset.stream === stream) last.textContent += text;
    else output.append(el("span", { className: stream, textContent: text, dataset: { stream } }));
    output.scrollTop = output.scrollHeight;
  }

  async function runCell() {
    if (running) return;
    running = true;
    run.disabled = true;
    stop.hidden = false;
    output.replaceChildren();
    output.hidden = true;
    box.dataset.state = "running";
    state.textContent = worker.state === "ready" ? "Running…" : "Waiting for Python…";
    try {
      const { ok } = await worker.run(textOf(view), scope, print);
      box.dataset.state = ok ? "done" : "error";
      state.textContent = ok ? "Done." : "Python raised an error (see the traceback).";
      if (!output.hasChildNodes() && ok) print("info", "(no output)");
      if (ok) onSuccess(scope);
    } catch (error) {
      box.dataset.state = "stopped";
      if (error instanceof StoppedError) {
        state.textContent = "Stopped.";
        print("info", "\nStopped: Python was restarted, so variables from earlier cells are gone. Run them again if this cell needs them.\n");
      } else {
        state.textContent = "Could not run.";
        print("stderr", error.message);
      }
    } finally {
      running = false;
      run.disabled = false;
      stop.hidden = true;
    }
  }

  run.addEventListener("click", runCell);
  stop.addEventListener("click", () => worker.restart());
  reset.addEventListener("click", () => {
    setText(view, original);
    view.focus();
  });

  return {
    setPython(pythonState) {
      if (!running) state.textContent = pythonState === "failed" ? worker.failure : "";
    },
  };
}
