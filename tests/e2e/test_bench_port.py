"""The benchmark is a fair race: the JavaScript port of microgpt.py (bench/microgpt.js)
computes the same losses as TinyGPT's scalar engine from the same start, and the
benchmark page times all three engines (and the fast one at 1, 4 and 8 documents per
step) and reports finite numbers, and scripts/bench_browser.py runs and prints its table.
How fast each engine is, is the benchmark's business, not a test's."""

import math
import re
import subprocess
import sys

import pytest
from browsing import ROOT

from tinygpt.trainer import Trainer

STEPS = 5

RUN_PORT = """async ([init, settings, steps]) => {
  const { createRun } = await import("./microgpt.js");
  const run = createRun({ ...init, ...settings });
  const losses = [];
  for (let i = 0; i < steps; i++) losses.push(run.step());
  return { losses, vocabSize: run.vocabSize, nParams: run.nParams };
}"""


@pytest.mark.parametrize(
    "dataset, settings",
    [
        ("first_names", {}),  # the benchmark's run: default model, first names
        # Two layers, a short block (long names are cut), and characters outside ASCII
        # (the port must order its vocabulary as Python's sorted() does).
        ("pokemon", {"n_embd": 8, "n_head": 2, "n_layer": 2, "block_size": 6, "lr": 0.05}),
    ],
)
def test_js_port_computes_the_scalar_engines_losses(page, site, dataset, settings):
    text = (ROOT / "public" / "data" / f"{dataset}.txt").read_text(encoding="utf-8")
    trainer = Trainer(text, engine="scalar", steps=100, **settings)
    init = {"params": trainer.params, "docs": trainer.train_docs}
    expected = [trainer.step() for _ in range(STEPS)]
    assert len(set(expected)) == STEPS  # different documents, changing parameters

    port_settings = {
        "nEmbd": trainer.config.n_embd,
        "nHead": trainer.config.n_head,
        "nLayer": trainer.config.n_layer,
        "blockSize": trainer.config.block_size,
        "lr": trainer.settings["lr"],
        "steps": 100,
    }
    page.goto(site + "bench/microgpt.js")  # any page of the site can import the module
    got = page.evaluate(RUN_PORT, [init, port_settings, STEPS])
    assert got["vocabSize"] == trainer.tokenizer.vocab_size
    assert got["nParams"] == sum(len(row) for m in trainer.params.values() for row in m)
    for step, (a, b) in enumerate(zip(got["losses"], expected, strict=True), 1):
        assert abs(a - b) < 1e-9, f"step {step}: JS port {a!r}, Python scalar {b!r}"


def test_bench_page_times_every_engine(page, site):
    page.goto(site + "bench/?js=12&fast=12&scalar=3")
    page.wait_for_function("() => window.benchResult", timeout=120_000)
    result = page.evaluate("window.benchResult")
    assert "error" not in result, result
    for name, steps in (("js", 12), ("fast", 12), ("scalar", 3)):
        engine = result["engines"][name]
        assert engine["steps"] == steps and len(engine["losses"]) == steps
        assert math.isfinite(engine["median_ms"]) and engine["median_ms"] > 0, engine
        assert math.isfinite(engine["steps_per_s"]) and engine["steps_per_s"] > 0, engine
    assert all(math.isfinite(r) and r > 0 for r in result["ratios"].values()), result["ratios"]
    # In the page too, the three engines trained the same model on the same documents.
    assert result["check"]["compared_steps"] == 3
    assert result["check"]["js_vs_scalar"] < 1e-9
    assert result["check"]["fast_vs_scalar"] < 1e-9
    rows = page.locator("[data-testid=bench-table] tbody tr")
    assert rows.count() == 3
    # the fast engine with 1, 4 and 8 documents per step, on about as many documents
    # and at 8 with steps computed whole and cut a name per chunk: the same losses
    for key, batch, steps in ((1, 1, 12), (4, 4, 3), (8, 8, 2), ("8 whole", 8, 2),
                              ("8 per name", 8, 2)):
        timed = result["batches"][str(key)]
        assert timed["batch"] == batch and timed["steps"] == steps == len(timed["losses"])
        assert timed["docs"] == steps * batch
        assert math.isfinite(timed["docs_per_s"]) and timed["docs_per_s"] > 0, timed
        assert timed["vs_batch_1"] == 1 if batch == 1 else timed["vs_batch_1"] > 0, timed
    eights = [result["batches"][k]["losses"] for k in ("8", "8 whole", "8 per name")]
    for a, b, c in zip(*eights, strict=True):
        assert abs(a - b) <= 1e-12 * b and abs(c - b) <= 1e-12 * b
    assert page.locator("[data-testid=batch-table] tbody tr").count() == 5
    assert page.get_attribute("[data-testid=bench-status]", "data-state") == "done"


def test_bench_page_rejects_bad_step_counts(page, site):
    page.goto(site + "bench/?js=ten&fast=0")
    status = page.locator("[data-testid=bench-status]")
    assert status.get_attribute("data-state") == "error"
    assert "whole number" in page.text_content("#js-steps-error")
    assert "whole number" in page.text_content("#fast-steps-error")
    assert page.text_content("#scalar-steps-error") == ""
    page.wait_for_timeout(300)
    assert page.evaluate("window.benchResult === undefined")  # nothing ran


def test_the_benchmark_script_runs_and_prints_its_table():
    # The script as the README runs it, tiny: it had broken once without any test noticing
    # (the bench page's CSP refused the expression it waited with).
    done = subprocess.run(
        [sys.executable, "scripts/bench_browser.py", "--repeat", "1", "--steps", "5",
         "--scalar-steps", "1", "--playground-steps", "20"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    for engine in ("JS port (scalar Value)", "Python fast", "Python scalar"):
        row = re.search(rf"^{re.escape(engine)}\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$",
                        out, re.M)
        assert row and float(row[2]) > 0, (engine, out)
    assert re.search(r"^fast / JS port\s+[\d.]+x$", out, re.M), out
    assert re.search(r"^batch 8 docs/s against whole steps: cut as the page cuts them [\d.]+x"
                     r".* a name per chunk [\d.]+x", out, re.M), out
    assert re.search(r"playground, UI live, fast engine: 20 steps in [\d.]+ s", out), out
    assert re.search(r"long tasks \(over 50 ms\) from the click to done, per page load: \d+",
                     out), out
    # ...and the start-up numbers: cold and warm start, first-visit bytes, the lessons.
    for label in ("playground cold start to ready", "playground warm start to ready",
                  "lessons: first cell can run"):
        assert re.search(rf"^{re.escape(label)}\s+[\d.]+ s", out, re.M), (label, out)
    assert re.search(r"^first visit, requested before ready\s+[\d.]+ MB gzip", out, re.M), out


def test_the_start_cost_script_runs_and_prints_its_medians():
    # scripts/start_cost.py, which the README's figures for a start of the playground come
    # from, at two starts (the first a first visit) with its trace, as the browser tests
    # that measure no time start it (the pages in one renderer process).
    done = subprocess.run([sys.executable, "scripts/start_cost.py", "--starts", "2", "--trace",
                           "--shared-process"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert len(re.findall(r"^start \d: ready in [\d.]+ s, [\d.]+ s of processor$", out, re.M)) == 2
    median = re.search(r"^median of starts 2-2: ready in [\d.]+ s, ([\d.]+) s of processor$",
                       out, re.M)
    assert median and float(median[1]) > 0, out
    assert re.search(r"^\s+\d+  Renderer / CrRendererMain$", out, re.M), out
