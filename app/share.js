// Sharing: the "Share names" and "Share model" links, copying them, the system share
// sheet, the name card as a PNG, model files (download and open), and opening a link
// found in the URL. A link or file is validated completely (here for name cards, by
// Python for models) before it replaces anything, so a broken one leaves the current
// run as it was and says what is wrong.
import { call } from "./bridge.js";
import { $, clearError, download } from "./dom.js";
import { LinkError, MAX_LINK_CHARS, decodeFragment, encodeFragment, fromBase64, pageAddress, readFragment } from "./linkcodec.js";
import { MAX_CARD_BYTES, cardBytes, cardImage, hideCardView, parseCard, showCardView, validateCard } from "./namecard.js";
import { jobLoop } from "./loop.js";
import { describeModel, openModel } from "./open-model.js";
import { limits, setting } from "./settings.js";

const fmt = (n) => n.toLocaleString("en");

let app = null;
let sharedCard = null; // the card behind the link on show, for "Save as image"

export function installSharing(theApp) {
  app = theApp;
  $("share-names").addEventListener("click", () => onShareNames().catch(report));
  $("share-model").addEventListener("click", () => onShareModel().catch(report));
  $("copy-link").addEventListener("click", onCopyLink);
  $("system-share").addEventListener("click", onSystemShare);
  $("save-image").addEventListener("click", () => sharedCard && saveImage(sharedCard));
  $("download-model").addEventListener("click", onDownloadModel);
  $("export-pytorch").addEventListener("click", () => onExport().catch(report));
  $("open-model-file").addEventListener("change", (event) => onOpenFile(event).catch(report));
  $("share-link").addEventListener("focus", (event) => event.target.select());
  window.addEventListener("hashchange", () => {
    // A link pasted into this tab's address bar; a model needs Python, which applies it once ready.
    if (readFragment()?.kind === "model" && app.state === "loading") return;
    if (!readFragment()) hideCardView(); // e.g. the "Saved models" link, clicked on a card
    applyLinkFromUrl();
  });
  // A new or discarded run makes an opened model link (and a link on show) out of date.
  app.on("run", () => {
    if (readFragment()) history.replaceState(null, "", pageAddress());
    $("share-result").hidden = true;
    $("share-status").textContent = "";
  });
  app.on("state", updateButtons);
  updateButtons();
  // A name card needs no Python: show it at once, while the playground loads behind it.
  if (readFragment()?.kind === "names") applyLinkFromUrl();
}

function updateButtons() {
  const ready = app.state !== "loading";
  for (const id of ["share-names", "download-model"]) $(id).disabled = !ready || !app.info;
  for (const id of ["share-model", "export-pytorch"]) $(id).disabled = !ready || !app.info || jobRunning;
  $("open-model-file").disabled = !ready;
}

function report(error) {
  app.showError(error);
}

// --- what a link says about the model ----------------------------------------------------
// The dataset and the loss come from Python (Session.info: one headline loss for cards,
// files, links and saved models alike); the page adds where the model was made and the
// sampling settings of the names shown.
function modelMeta() {
  const meta = { source: "page", saved: new Date().toISOString() };
  if (app.lastSamples) meta.sample = { temperature: app.lastSamples.temperature, seed: app.lastSamples.seed ?? null };
  return meta;
}

function steps() {
  const info = app.info;
  if (info.trainable) return info.step;
  return Number.isInteger(info.meta?.steps) && info.meta.steps >= 0 ? info.meta.steps : null;
}

// --- making links -----------------------------------------------------------------------------
async function onShareNames() {
  clearError();
  if (!app.info) throw new LinkError("Train a model (or open one) first, then generate names to share.");
  const names = app.lastSamples?.names;
  if (!names?.length) throw new LinkError("Generate some names first (section 4), then share them.");
  const card = validateCard({
    v: 1,
    names,
    dataset: app.info.dataset,
    config: app.info.config,
    params: app.info.params,
    steps: steps(),
    loss: app.info.loss,
    temperature: app.lastSamples.temperature ?? null,
  });
  const link = pageAddress() + (await encodeFragment("names", cardBytes(card)));
  sharedCard = card;
  showLink(link, `The link is ${fmt(link.length)} characters long. It opens these ${names.length} names on a card.`, true);
}

// Sharing and exporting are Python jobs of short pieces (the page never freezes, even
// for the biggest model): started, then advanced by job_for in short tasks, its progress
// shown in the status line. Resolves with the job's answer, or null if the job was
// dropped (a new run or model replaced the one it was for).
let jobRunning = false;

function runJob(name, args, text) {
  jobRunning = true;
  updateButtons();
  $("share-status").textContent = text;
  return new Promise((resolve, reject) => {
    let id = null;
    const end = (settle, value) => {
      loop.stop({ discard: true });
      jobRunning = false;
      updateButtons();
      $("share-status").textContent = "";
      settle(value);
    };
    const loop = jobLoop({
      onFrame: (answer) => {
        if (answer.job === id && answer.progress) $("share-status").textContent = answer.progress;
      },
      onDone: (answer) => end(resolve, answer.job === id ? answer.result : null),
      onError: (error) => end(reject, error),
    });
    try {
      id = call(name, args).job;
    } catch (error) {
      end(reject, error);
      return;
    }
    loop.start();
  });
}

async function onShareModel() {
  clearError();
  const exact = $("share-exact").checked;
  const answer = await runJob("start_share_model", { exact, meta: modelMeta() },
    exact ? "Packing the exact weights…" : "Packing the model and checking what fewer bits per weight cost…");
  if (!answer) return;
  const link = pageAddress() + (await encodeFragment("model", fromBase64(answer.data)));
  if (link.length > MAX_LINK_CHARS) {
    throw new LinkError(`This model is too big for a link: ${fmt(link.length)} characters, and browsers take at most ${fmt(MAX_LINK_CHARS)}. Use "Download model" instead.`);
  }
  sharedCard = null;
  showLink(link, `The link is ${fmt(link.length)} characters long (a ${fmt(answer.bytes)}-byte model, compressed). ${precisionNote(answer)}`, false);
}

function precisionNote(answer) {
  if (answer.bits === 64) {
    return "Exact 64-bit weights: with the same seed and temperature it generates the very same names as this page.";
  }
  if (answer.loss === null) return `${answer.bits}-bit weights, which hold this model's weights exactly.`;
  const change = Math.abs(answer.loss_shared - answer.loss);
  return `${answer.bits}-bit weights: the loss on ${answer.docs} ${answer.measured_on} names moves from ${answer.loss.toFixed(4)} to ${answer.loss_shared.toFixed(4)} (a change of ${change.toFixed(5)}; at most 0.01 is allowed). Tick "Exact weights" for the very same names.`;
}

function showLink(link, info, isNames) {
  $("share-link").value = link;
  $("share-link-info").textContent = info;
  $("save-image").hidden = !isNames;
  $("system-share").hidden = typeof navigator.share !== "function";
  $("share-result").hidden = false;
  $("share-link").dataset.kind = isNames ? "names" : "model";
}

async function onCopyLink() {
  try {
    await navigator.clipboard.writeText($("share-link").value);
    $("share-status").textContent = "Link copied.";
  } catch {
    $("share-link").focus();
    $("share-link").select();
    $("share-status").textContent = "Copying is blocked here: the link is selected, press Ctrl+C (or ⌘C) to copy it.";
  }
}

async function onSystemShare() {
  const kind = $("share-link").dataset.kind;
  try {
    await navigator.share({
      title: "TinyGPT",
      text: kind === "names" ? "Names a tiny GPT invented in my browser" : "A tiny GPT I trained in my browser",
      url: $("share-link").value,
    });
  } catch (error) {
    if (error?.name !== "AbortError") $("share-status").textContent = "The share sheet did not open; copy the link instead.";
  }
}

async function saveImage(card) {
  try {
    download(await cardImage(card), "tinygpt-names.png");
  } catch (error) {
    report(error);
  }
}

// --- model files ------------------------------------------------------------------------------
function fileSlug(text) {
  return (text || "model").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 40) || "model";
}

function onDownloadModel() {
  clearError();
  try {
    const file = call("model_file", { meta: modelMeta() });
    const name = `tinygpt-${fileSlug(app.info.dataset)}-${steps() ?? 0}-steps.json`;
    download(new Blob([JSON.stringify(file)], { type: "application/json" }), name);
    $("share-status").textContent = `Downloaded ${name}. Open it here again, or use it with python -m tinygpt sample --model ${name}.`;
  } catch (error) {
    report(error);
  }
}

// "Export to PyTorch": Python builds the project's zip (export.py), the page saves it.
async function onExport() {
  clearError();
  const answer = await runJob("start_export_project", { meta: modelMeta() }, "Building the PyTorch project…");
  if (!answer) return;
  download(new Blob([fromBase64(answer.data)], { type: "application/zip" }), answer.filename);
  // Settings of the model's description that train.py would not take (out of range, not a run setting).
  const leftOut = answer.left_out.length ? ` Left out of train.py's defaults (it uses its own instead): ${answer.left_out.join(" ")}` : "";
  $("share-status").textContent = `Downloaded ${answer.filename}: unzip it, then follow its README (python train.py trains this model in PyTorch, on CPUs or GPUs; its model files open here).${leftOut}`;
}

async function onOpenFile(event) {
  const file = event.target.files[0];
  event.target.value = "";
  if (!file) return;
  clearError();
  const name = file.name.length > 60 ? `${file.name.slice(0, 57)}…` : file.name;
  if (file.size > limits.max_file_bytes) {
    throw new LinkError(`The file ${name} is ${(file.size / 1e6).toFixed(1)} MB; this page opens model files of up to ${(limits.max_file_bytes / 1e6).toFixed(1)} MB (models of up to ${fmt(limits.max_params)} parameters). Use bigger ones with python -m tinygpt sample.`);
  }
  let text;
  try {
    text = await file.text();
  } catch {
    throw new LinkError(`The file ${name} could not be read.`);
  }
  try {
    await open({ kind: "file", text }, `the file ${name}`);
  } catch (error) {
    if (error.kind !== "user") throw error;
    throw new LinkError(`The model file ${name} cannot be opened: ${error.message}. Nothing on this page was changed.`);
  }
}

// --- opening links and models -------------------------------------------------------------------
// Applies the link in the URL (if any); the page's run is replaced only by a valid model.
export async function applyLinkFromUrl({ only = null } = {}) {
  const fragment = readFragment();
  if (!fragment || (only && fragment.kind !== only)) return;
  try {
    if (fragment.kind === "names") {
      const card = parseCard(await decodeFragment(fragment.data, MAX_CARD_BYTES));
      sharedCard = card;
      showCardView(card, { onTrainOwn: leaveCardView, onSaveImage: saveImage });
    } else {
      let bytes;
      try {
        bytes = await decodeFragment(fragment.data, limits.max_link_bytes);
      } catch (error) {
        if (!error.tooBig) throw error;
        throw new LinkError(`it holds a model too big for this page, which runs models of up to ${fmt(limits.max_params)} parameters (a link of at most ${fmt(limits.max_link_bytes)} bytes unpacked); use bigger models with python -m tinygpt sample`);
      }
      await open({ kind: "link", bytes }, "a shared link");
    }
  } catch (error) {
    history.replaceState(null, "", pageAddress()); // a reload should not meet the same broken link
    if (error.kind === "user") {
      app.showError(`This ${fragment.kind === "names" ? "names" : "model"} link cannot be opened: ${error.message}. Nothing on this page was changed.`);
    } else {
      report(error);
    }
  }
}

function leaveCardView() {
  hideCardView();
  history.replaceState(null, "", pageAddress());
  $("playground").scrollIntoView();
  $("train-toggle").focus();
}

async function open(source, where) {
  const info = await openModel(app, source);
  hideCardView();
  fillSampling(info.meta?.sample);
  $("share-status").textContent = `Opened a model from ${where}${describeModel(info)}. Generate names with it in section 4.`;
}

// The temperature and seed the sharer used, so Generate gives the names they saw.
function fillSampling(sample) {
  if (!sample || typeof sample !== "object") return;
  const t = setting.temperature;
  if (Number.isFinite(sample.temperature) && sample.temperature >= t.low && sample.temperature <= t.high) $("temperature").value = String(sample.temperature);
  if (Number.isInteger(sample.seed) && sample.seed >= 0 && sample.seed < 2 ** 32) $("gen-seed").value = String(sample.seed);
}
