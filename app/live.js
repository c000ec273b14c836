// Live names: while a run trains, Python makes a few names at temperature 0.5 every
// second or so (Session.train_for, with the weights of the step they start at), and
// they appear here with that step, so people watch gibberish turn into names.
import { $, el } from "./dom.js";

export function installLive(app) {
  app.on("live", ({ step, names }) => {
    $("live-step").textContent = `step ${step.toLocaleString("en")}`;
    $("live-samples").replaceChildren(...names.map((name) => el("li", { textContent: name || "(empty)", dataset: { testid: "live-sample" } })));
    $("live").hidden = false;
  });
  app.on("run", (info) => {
    if (!info || !info.restored) {
      $("live").hidden = true;
      $("live-samples").replaceChildren();
    }
  });
}
