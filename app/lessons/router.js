// One view per lesson, chosen by the URL hash (lessons.html#tokens), with previous/next
// links under each lesson and the start view listing them all with the reader's progress.
import { el } from "../dom.js";
import { exerciseState, forget, markVisited, status } from "./progress.js";

export const LESSONS = [
  { id: "tokens", title: "Tokens" },
  { id: "autograd", title: "Autograd" },
  { id: "attention", title: "Attention and the transformer" },
  { id: "training", title: "Training" },
  { id: "sampling", title: "Sampling" },
  { id: "build", title: "Build your own" },
];
const STATUS_TEXT = { new: "not started", visited: "opened", completed: "done" };
const EXERCISE_TEXT = { new: "not tried", failed: "not passed yet", passed: "passed" };

const views = () => document.querySelectorAll("[data-view]");

function addLessonNav() {
  LESSONS.forEach((lesson, i) => {
    const section = document.querySelector(`[data-view="${lesson.id}"]`);
    const prev = LESSONS[i - 1];
    const next = LESSONS[i + 1];
    const nav = el("nav", { className: "lesson-nav" });
    nav.setAttribute("aria-label", "Lessons");
    nav.append(prev
      ? el("a", { href: `#${prev.id}`, textContent: `← ${i}. ${prev.title}`, rel: "prev" })
      : el("a", { href: "#start", textContent: "← All lessons" }));
    const nextLink = next
      ? el("a", { href: `#${next.id}`, textContent: `Next: ${i + 2}. ${next.title} →`, rel: "next" })
      : el("a", { href: "./index.html", textContent: "Next: open the playground →" });
    nextLink.dataset.testid = "lesson-link";
    nav.append(nextLink);
    section.append(nav);
  });
}

// The exercises of a lesson, as the page has them: [{id, title}].
function exercisesOf(lessonId) {
  return [...document.querySelectorAll(`[data-view="${lessonId}"] [data-testid=exercise]`)].map((box) => ({
    id: box.dataset.exercise,
    title: box.querySelector("h3").textContent.replace(/^Exercise:\s*/, ""),
  }));
}

// A line per exercise under its lesson (not list items: the lesson list's items are the
// lessons).
function exerciseList(exercises) {
  const box = el("div", { className: "exercise-progress" });
  box.append(...exercises.map(({ id, title }) => {
    const state = exerciseState(id);
    return el("span", { dataset: { exercise: id, state } },
      `Exercise: ${title} `, el("span", { className: `badge ${state}`, textContent: EXERCISE_TEXT[state] }));
  }));
  return box;
}

export function renderStart() {
  const list = document.getElementById("lesson-list");
  list.replaceChildren(...LESSONS.map((lesson) => {
    const state = status(lesson.id);
    const item = el("li", { dataset: { status: state, lesson: lesson.id } },
      el("a", { href: `#${lesson.id}`, textContent: lesson.title }), " ",
      el("span", { className: `badge ${state}`, textContent: STATUS_TEXT[state] }));
    const exercises = exercisesOf(lesson.id);
    if (exercises.length) item.append(exerciseList(exercises));
    return item;
  }));
  const done = LESSONS.filter((l) => status(l.id) === "completed").length;
  const opened = LESSONS.filter((l) => status(l.id) !== "new").length;
  const all = LESSONS.flatMap((l) => exercisesOf(l.id));
  const passed = all.filter((e) => exerciseState(e.id) === "passed").length;
  const exercises = passed ? ` You have passed ${passed} of ${all.length} exercises.` : "";
  document.getElementById("progress-summary").textContent = (opened === 0
    ? "You have not started yet."
    : `You have opened ${opened} of ${LESSONS.length} lessons and completed ${done} (ran a cell or passed an exercise).`) + exercises;
  const nextUp = LESSONS.find((l) => status(l.id) !== "completed") || LESSONS[0];
  const index = LESSONS.indexOf(nextUp);
  const link = document.getElementById("continue-link");
  link.href = `#${nextUp.id}`;
  link.textContent = opened === 0 ? "Start with lesson 1" : `Continue with lesson ${index + 1}: ${nextUp.title}`;
}

function show(onShow) {
  const wanted = location.hash.slice(1);
  const id = LESSONS.some((l) => l.id === wanted) ? wanted : "start";
  for (const view of views()) view.hidden = view.dataset.view !== id;
  const lesson = LESSONS.find((l) => l.id === id);
  document.title = lesson ? `${LESSONS.indexOf(lesson) + 1}. ${lesson.title} — TinyGPT lessons` : "TinyGPT lessons — from tokens to your own GPT";
  if (lesson) markVisited(id);
  else renderStart();
  window.scrollTo(0, 0);
  onShow(id);
  return id;
}

export function startRouter(onShow) {
  addLessonNav();
  document.getElementById("reset-progress").addEventListener("click", () => {
    forget();
    renderStart();
  });
  window.addEventListener("hashchange", () => {
    show(onShow);
    // Move focus to the new view's heading, as a page load would for a screen reader.
    document.querySelector("[data-view]:not([hidden]) h2")?.focus();
  });
  show(onShow);
}
