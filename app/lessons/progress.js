// Progress through the lessons, kept in localStorage: which lessons were opened and
// which were completed (a cell of the lesson ran without an error, or an exercise
// passed), each exercise's state (failed or passed; not tried when absent), and the
// learner's code in each exercise. Storage can be refused (private browsing): progress
// then lasts for this visit only. What is read back is checked like any input: it may
// come from an older page or have been edited by hand.
const KEY = "tinygpt-lessons-progress";
const CODE_KEY = "tinygpt-exercise-code";
const EXERCISE_STATES = new Set(["failed", "passed"]);
const EXERCISE_ID = /^[a-z][a-z0-9-]{0,39}$/;
export const MAX_CODE = 20_000; // characters of an exercise's code, as Python takes it

function read(key) {
  try {
    const value = JSON.parse(localStorage.getItem(key) || "{}");
    return value && typeof value === "object" && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}

function write(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // storage refused or full: keep it in memory
  }
}

const isText = (x) => typeof x === "string" && x.length <= MAX_CODE;

function load() {
  const saved = read(KEY);
  const list = (value) => (Array.isArray(value) ? value.filter((x) => typeof x === "string") : []);
  const exercises = new Map();
  const states = saved.exercises && typeof saved.exercises === "object" ? saved.exercises : {};
  for (const [id, state] of Object.entries(states)) {
    if (EXERCISE_ID.test(id) && EXERCISE_STATES.has(state)) exercises.set(id, state);
  }
  return { visited: new Set(list(saved.visited)), completed: new Set(list(saved.completed)), exercises };
}

function loadCode() {
  const code = new Map();
  for (const [id, entry] of Object.entries(read(CODE_KEY))) {
    if (!EXERCISE_ID.test(id) || !entry || typeof entry !== "object" || !isText(entry.code)) continue;
    code.set(id, { code: entry.code, mine: isText(entry.mine) ? entry.mine : null });
  }
  return code;
}

const progress = load();
const codes = loadCode();

function save() {
  write(KEY, {
    visited: [...progress.visited],
    completed: [...progress.completed],
    exercises: Object.fromEntries(progress.exercises),
  });
}

export function markVisited(id) {
  progress.visited.add(id);
  save();
}

export function markCompleted(id) {
  progress.completed.add(id);
  progress.visited.add(id);
  save();
}

export function status(id) {
  if (progress.completed.has(id)) return "completed";
  return progress.visited.has(id) ? "visited" : "new";
}

// "new" (not tried), "failed" or "passed": the result of the exercise's last check.
export function exerciseState(id) {
  return progress.exercises.get(id) || "new";
}

export function setExerciseState(id, state) {
  if (!EXERCISE_STATES.has(state)) throw new Error(`not an exercise state: ${state}`);
  progress.exercises.set(id, state);
  save();
}

// The learner's code of an exercise: {code, mine} (mine: their own code, kept while the
// editor shows the package's solution), or null when they have not written any.
export function savedCode(id) {
  return codes.get(id) || null;
}

export function saveCode(id, entry) {
  if (entry === null) codes.delete(id);
  else codes.set(id, { code: entry.code, mine: entry.mine ?? null });
  write(CODE_KEY, Object.fromEntries(codes));
}

// Forgets which lessons were opened and done and the exercises' states, not the code
// written in them (that is the learner's work, not progress).
export function forget() {
  progress.visited.clear();
  progress.completed.clear();
  progress.exercises.clear();
  save();
}
