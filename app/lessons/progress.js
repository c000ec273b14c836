// Progress through the lessons, kept in localStorage: which lessons were opened and
// which were completed (a cell of the lesson ran without an error). Storage can be
// refused (private browsing): progress then lasts for this visit only.
const KEY = "tinygpt-lessons-progress";

function load() {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) || "{}");
    const list = (value) => (Array.isArray(value) ? value.filter((x) => typeof x === "string") : []);
    return { visited: new Set(list(saved.visited)), completed: new Set(list(saved.completed)) };
  } catch {
    return { visited: new Set(), completed: new Set() };
  }
}

const progress = load();

function save() {
  try {
    localStorage.setItem(KEY, JSON.stringify({ visited: [...progress.visited], completed: [...progress.completed] }));
  } catch {
    // storage refused: keep the progress in memory
  }
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

export function forget() {
  progress.visited.clear();
  progress.completed.clear();
  save();
}
