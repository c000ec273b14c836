// The datasets the figures use (data/datasets.json), loaded on demand into the Python
// worker that asks (the figures' one, or the cells' one for "Train with my code"). A
// restarted worker has forgotten them, hence the generation check.
const texts = new Map(); // id -> Promise<text>
const loaded = new WeakMap(); // worker -> Map(id -> the worker generation it was loaded into)
let listPromise = null;

export function datasetList() {
  listPromise ??= fetch("./data/datasets.json").then((r) => {
    if (!r.ok) throw new Error(`data/datasets.json: HTTP ${r.status}`);
    return r.json();
  });
  return listPromise;
}

async function datasetText(id) {
  if (!texts.has(id)) {
    texts.set(id, datasetList().then(async (list) => {
      const entry = list.find((d) => d.id === id);
      if (!entry) throw new Error(`There is no dataset called ${id}.`);
      const response = await fetch(`./${entry.file}`);
      if (!response.ok) throw new Error(`${entry.file}: HTTP ${response.status}`);
      return response.text();
    }));
  }
  return texts.get(id);
}

export async function ensureDataset(py, id) {
  const text = await datasetText(id);
  if (!loaded.has(py)) loaded.set(py, new Map());
  if (loaded.get(py).get(id) !== py.generation) {
    await py.call("use_dataset", { id, text });
    loaded.get(py).set(id, py.generation);
  }
  return id;
}
