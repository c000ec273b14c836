// Start-up progress: python-start.js announces its stages as `tinygpt:progress` events,
// and the big downloads show up in the Resource Timing buffer as they finish. Together
// they move a progress bar so nobody stares at a blank page while Python starts.
import { $, showError } from "./dom.js";

const STAGES = [
  // [what python-start.js says or which file finished, progress %, what we tell the reader]
  ["Loading Pyodide", 10, "Downloading the Python runtime…"],
  ["pyodide.asm.mjs", 25, "Downloading the Python runtime…"],
  ["python_stdlib", 45, "Downloading Python's standard library…"],
  ["pyodide.asm.wasm", 65, "Compiling Python (WebAssembly)…"],
  ["Loaded Pyodide", 75, "Starting Python…"],
  ["Loaded files", 85, "Importing tinygpt…"],
  ["Importing tinygpt", 90, "Importing tinygpt…"],
];

export function showStartupProgress() {
  const bar = $("load-progress");
  const label = $("load-label");
  const reached = (name) => {
    const stage = STAGES.find(([key]) => name.includes(key));
    if (stage && stage[1] > bar.value) {
      bar.value = stage[1];
      label.textContent = stage[2];
    }
  };
  window.addEventListener("tinygpt:progress", (event) => reached(String(event.detail)));
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) reached(entry.name);
  });
  observer.observe({ type: "resource", buffered: true });
  return () => {
    observer.disconnect();
    bar.value = 100;
    $("loading").hidden = true;
  };
}

// If Python has not started after this long, something is wrong (a blocked download,
// an old browser without WebAssembly): say so in words instead of spinning forever.
export function startupWatchdog(seconds = 60) {
  const fail = (why) => {
    $("load-label").textContent = "Python could not start.";
    document.querySelector("[data-testid=status]").dataset.state = "error";
    document.querySelector("[data-testid=status]").textContent = "error";
    showError(
      `TinyGPT could not start Python in this browser (${why}). ` +
        "Reload the page; if it keeps failing, try a recent Chrome, Firefox or Safari.",
    );
  };
  const timer = setTimeout(() => fail("it took longer than a minute"), seconds * 1000);
  const onError = (event) => {
    const message = String(event?.detail?.message || event?.detail || event?.message || event?.reason || "");
    if (!window.tinygptCall && message) {
      clearTimeout(timer);
      fail(message.slice(0, 200));
    }
  };
  window.addEventListener("error", onError);
  window.addEventListener("unhandledrejection", onError);
  window.addEventListener("tinygpt:failed", onError);
  // python-start.js runs beside this page's code and may have failed already.
  if (window.tinygptStartFailure) onError({ detail: window.tinygptStartFailure });
  return () => {
    clearTimeout(timer);
    window.removeEventListener("error", onError);
    window.removeEventListener("unhandledrejection", onError);
    window.removeEventListener("tinygpt:failed", onError);
  };
}
