// throwaway: snapshot vs plain starts in firefox/webkit
import fs from "node:fs";
import { launchEngine } from "./engines.mjs";
import { serve } from "./site.mjs";
const busy = () => { const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].split(/\s+/).slice(1).map(Number); return (f[0]+f[1]+f[2]+f[5]+f[6]) / 100; };
const START = async (site, snapshotUrl) => {
  const began = performance.now();
  const { startPython } = await import(site + "app/python-package.js");
  const loadOptions = {};
  if (snapshotUrl) {
    const gunzipped = (await fetch(snapshotUrl)).body.pipeThrough(new DecompressionStream("gzip"));
    loadOptions._loadSnapshot = new Uint8Array(await new Response(gunzipped).arrayBuffer());
  }
  const pyodide = await startPython(new URL(site), { compiled: true, loadOptions });
  pyodide.runPython("import tinygpt.web");
  window.__pyodide = pyodide;
  return performance.now() - began;
};
const AFTER = `
import random, time
from tinygpt.trainer import Trainer
random.seed()
trainer = Trainer("emma\\nolivia\\nava\\nisabella\\nsophia\\n", steps=5, seed=3)
repr(([trainer.step() for _ in range(5)], random.random(), time.timezone))
`;
const site = await serve("/tmp/snapdist");
for (const name of process.argv.slice(2)) {
  const engine = await launchEngine(name);
  for (let i = 0; i < 6; i++) {
    const kind = i % 2 ? "snapshot" : "plain";
    const tab = await engine.openTab();
    await tab.goto(site.url + "schema.json");
    const b = busy();
    const t0 = Date.now();
    let ms, after;
    try {
      ms = await tab.evaluate(START, site.url, kind === "snapshot" ? site.url + "py/python.snapshot.gz" : null);
      after = await tab.evaluate((code) => window.__pyodide.runPython(code), AFTER);
    } catch (e) { after = "ERROR " + e.message.slice(0, 300); }
    console.log(name, kind, (ms/1000).toFixed(2), "s in page;", ((Date.now()-t0)/1000).toFixed(2), "s wall;", (busy()-b).toFixed(2), "CPU-s;", after.slice(0, 200));
    await tab.close();
  }
  await engine.close();
}
site.close();
