// The one bridge from JavaScript to Python. `tinygpt.web` registers
// window.tinygptCall(name, argsJson); every call goes through `call` here, which turns
// Python's answer into a value or a thrown PythonError carrying a readable message.

export class PythonError extends Error {
  constructor(answer) {
    super(answer.error);
    this.kind = answer.kind; // "user": bad input, explained; "bug": something we must fix
    this.traceback = answer.traceback || "";
  }
}

export function call(name, args = {}) {
  const answer = JSON.parse(window.tinygptCall(name, JSON.stringify(args)));
  if ("error" in answer) throw new PythonError(answer);
  return answer.ok;
}

// Resolves when Python has imported tinygpt and registered the bridge.
export function pythonReady() {
  return new Promise((resolve) => {
    if (window.tinygptCall) resolve();
    else window.addEventListener("tinygpt:ready", () => resolve(), { once: true });
  });
}
