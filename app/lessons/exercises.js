// Exercises: a stub in an editor, Check (run in the cells' Python worker, so Stop works
// as it does for a cell), the result (the first case that differs, a typical mistake's
// hint, what the code printed), a hint to reveal, and after a failed check "Show a
// solution", which puts the package's way in the editor ("Back to my code" returns).
// Each exercise's state and code are kept with the lesson progress (progress.js).
import { el } from "../dom.js";
import { debounce } from "./figure-util.js";
import { createEditor, setText, textOf } from "./editor.js";
import { exerciseState, MAX_CODE, savedCode, saveCode, setExerciseState } from "./progress.js";
import { StoppedError } from "./python.js";

const CHECK_TIMEOUT_MS = 120_000; // a check that runs longer is stopped (Stop is quicker)
const SAVE_DELAY_MS = 300;

// setupExercises(document, worker, onChange) -> {list, codes(), show(lesson)}.
// onChange(exercise, state) after every check. An exercise's editor is made the first
// time its lesson is shown (show): seven editors at once would lengthen the page's start.
export function setupExercises(root, worker, onChange) {
  const list = [...root.querySelectorAll("[data-testid=exercise]")].map((box) => makeExercise(box, worker, onChange));
  worker.onState((state) => {
    for (const exercise of list) exercise.setPython(state);
  });
  return {
    list,
    // The code of each exercise the learner has written, for "Train with my code"
    // (Python checks it again; a stub is not written yet).
    codes: () => Object.fromEntries(list.filter((e) => e.written()).map((e) => [e.id, e.code()])),
    show(lesson) {
      for (const exercise of list) if (exercise.lesson === lesson) exercise.mount();
    },
  };
}

function lessonOf(box) {
  return box.closest("[data-view]").dataset.view;
}

function makeExercise(box, worker, onChange) {
  const id = box.dataset.exercise;
  const title = box.querySelector("h3").textContent.replace(/^Exercise:\s*/, "");
  const lesson = lessonOf(box);
  const source = box.querySelector(".exercise-source");
  const stub = source.textContent;
  const saved = savedCode(id);
  let mine = saved?.mine ?? null; // the learner's code while the solution is shown

  const check = el("button", { type: "button", className: "run", textContent: "Check", dataset: { testid: "exercise-check" } });
  const stop = el("button", { type: "button", textContent: "Stop", hidden: true, dataset: { testid: "exercise-stop" } });
  const reset = el("button", { type: "button", textContent: "Start over", dataset: { testid: "exercise-reset" } });
  const showSolution = el("button", { type: "button", textContent: "Show a solution", hidden: true, dataset: { testid: "exercise-solution" } });
  const backToMine = el("button", { type: "button", textContent: "Back to my code", hidden: mine === null, dataset: { testid: "exercise-mine" } });
  const state = el("span", { className: "cell-state muted", dataset: { testid: "exercise-state" } });
  state.setAttribute("aria-live", "polite");
  const result = el("div", { className: "exercise-result", hidden: true, dataset: { testid: "exercise-result" } });
  result.setAttribute("role", "status");
  check.setAttribute("aria-label", `Check your code: ${title}`);
  stop.setAttribute("aria-label", `Stop checking: ${title}`);
  reset.setAttribute("aria-label", `Start over from the stub: ${title}`);

  const holder = el("div", { className: "editor" });
  const persist = debounce((text) => {
    saveCode(id, text === stub && mine === null ? null : { code: text, mine });
  }, SAVE_DELAY_MS);
  const stale = el("p", { className: "stale", textContent: "(This is the result of the code as it was at the last Check.)" });
  function edited(text) {
    persist(text);
    if (!result.hidden && !result.contains(stale)) {
      result.dataset.stale = "true";
      result.append(stale);
    }
  }
  let view = null; // the editor, once mounted
  source.textContent = saved?.code ?? stub;
  source.after(el("div", { className: "cell-bar" }, check, stop, reset, showSolution, backToMine, state), result);
  box.dataset.state = exerciseState(id);
  if (exerciseState(id) === "failed") showSolution.hidden = false;

  function mount() {
    if (view) {
      view.requestMeasure(); // made in a hidden view: measure again now it shows
      return;
    }
    view = createEditor({
      doc: source.textContent,
      parent: holder,
      label: `Your code for the exercise: ${title}`,
      onRun: () => runCheck(),
      onChange: edited,
    });
    source.replaceWith(holder);
    box.editor = view; // for tests and the console
  }

  let running = false;

  function showResult(answer) {
    result.hidden = false;
    delete result.dataset.stale;
    result.dataset.state = answer.state;
    result.dataset.mistake = answer.mistake || "";
    const parts = [el("p", { className: "message", textContent: answer.message })];
    if (answer.hint) parts.push(el("p", { className: "mistake", textContent: `Hint: ${answer.hint}` }));
    if (answer.printed) {
      const printed = el("details", { className: "printed" }, el("summary", { textContent: "What your code printed" }));
      printed.append(el("pre", { textContent: answer.printed }));
      parts.push(printed);
    }
    result.replaceChildren(...parts);
  }

  async function runCheck() {
    if (running) return;
    mount();
    const code = textOf(view);
    if (code.length > MAX_CODE) {
      state.textContent = `This code is ${code.length.toLocaleString("en")} characters long; an exercise takes up to ${MAX_CODE.toLocaleString("en")}.`;
      return;
    }
    running = true;
    check.disabled = true;
    stop.hidden = false;
    box.dataset.state = "checking";
    state.textContent = worker.state === "ready" ? "Checking…" : "Waiting for Python…";
    try {
      const answer = await worker.call("exercise_check", { exercise: id, code }, CHECK_TIMEOUT_MS);
      showResult(answer);
      const passed = answer.state === "pass";
      state.textContent = passed ? "Passed." : "Not yet: see below.";
      box.dataset.state = passed ? "passed" : "failed";
      setExerciseState(id, passed ? "passed" : "failed");
      if (!passed) showSolution.hidden = false;
      onChange({ id, lesson, title }, passed ? "passed" : "failed");
    } catch (error) {
      box.dataset.state = exerciseState(id);
      state.textContent = error instanceof StoppedError
        ? "Stopped: Python was restarted (the cells' variables are gone too)."
        : `The check could not finish: ${error.message}`;
    } finally {
      running = false;
      check.disabled = false;
      stop.hidden = true;
    }
  }

  async function fillSolution() {
    mount();
    showSolution.disabled = true;
    try {
      const { code } = await worker.call("exercise_solution", { exercise: id });
      if (mine === null) mine = textOf(view);
      setText(view, code);
      backToMine.hidden = false;
      state.textContent = "This is TinyGPT's way. Compare it with yours (Back to my code), or check it and go on.";
      view.focus();
    } catch (error) {
      state.textContent = error instanceof StoppedError ? "Python was restarted: press again." : error.message;
    } finally {
      showSolution.disabled = false;
    }
  }

  function backToMyCode() {
    mount();
    if (mine === null) return;
    const text = mine;
    mine = null;
    setText(view, text);
    backToMine.hidden = true;
    state.textContent = "Your code is back.";
    view.focus();
  }

  check.addEventListener("click", runCheck);
  stop.addEventListener("click", () => worker.restart());
  reset.addEventListener("click", () => {
    mount();
    setText(view, stub); // Ctrl+Z in the editor brings the code back
    state.textContent = "Back to the stub (Ctrl+Z in the editor undoes it).";
    view.focus();
  });
  showSolution.addEventListener("click", fillSolution);
  backToMine.addEventListener("click", backToMyCode);

  return {
    id,
    lesson,
    title,
    mount,
    code: () => (view ? textOf(view) : source.textContent), // what the editor shows
    written: () => (view ? textOf(view) : source.textContent) !== stub,
    setPython(pythonState) {
      if (!running && pythonState === "failed") state.textContent = worker.failure;
    },
  };
}
