"""Benchmark: the exported PyTorch project against TinyGPT's fast engine, on this CPU.

Exports a fresh model of the default size (microgpt.py's) with the first-names dataset
into a temporary folder, then, in this one process, times training steps of TinyGPT's
`fast` engine (CPython, one document per step) and of the exported train.py's own step
function (PyTorch on the CPU) at 1 and at 32 documents per step, in float32 and float64.
Prints documents per second (the median of --blocks timed blocks of about --docs
documents each, the rows taking turns, after a warm-up round) and the ratio to TinyGPT.

    .venv/bin/python scripts/bench_export.py [--blocks 5] [--docs 320] [--threads 1]
"""

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "py"))
from tinygpt import export  # noqa: E402
from tinygpt.trainer import Trainer  # noqa: E402

DATA = ROOT / "public" / "data" / "first_names.txt"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--blocks", type=int, default=5, help="timed blocks per row")
    parser.add_argument("--docs", type=int, default=320, help="documents per block")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    return parser.parse_args()


def median_rates(rows, blocks, docs):
    """Median documents per second of each row's step over `blocks` timed blocks.

    The rows take turns block by block (after one warm-up round), so a machine that
    gets busier or quieter meanwhile moves them all alike and the ratios hold.
    """
    rates = [[] for _ in rows]
    for _ in range(blocks + 1):
        for (_, docs_per_step, step), row_rates in zip(rows, rates):
            steps = max(1, docs // docs_per_step)
            start = time.perf_counter()
            for _ in range(steps):
                step()
            row_rates.append(steps * docs_per_step / (time.perf_counter() - start))
    return [statistics.median(r[1:]) for r in rates]


def main():
    args = parse_args()
    text = Path(args.data).read_text(encoding="utf-8")
    trainer = Trainer(text, steps=10**6)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "project"
        export.write_project(export.project_files(trainer, text), folder)
        sys.path.insert(0, str(folder))
        import model as exported  # the exported model.py and train.py
        import train

    import torch

    torch.set_num_threads(args.threads)
    print(f"{platform.machine()}, {os.cpu_count()} cores, CPython {platform.python_version()}, "
          f"torch {torch.__version__} ({args.threads} thread{'s' * (args.threads > 1)}), "
          f"{Path(args.data).name}, n_embd 16, 1 layer, block 16; median of {args.blocks} "
          f"blocks of ~{args.docs} documents")

    rows = [("TinyGPT fast engine (CPython)", 1, trainer.step)]
    tokens = [trainer.tokenizer.encode(doc) for doc in trainer.train_docs]
    for dtype in ("float32", "float64"):
        for batch in (1, 32):
            model = exported.GPT(exported.GPTConfig(trainer.tokenizer.vocab_size))
            model.init_tinygpt_(random.Random(42))
            model.to(dtype=getattr(torch, dtype))
            adam = train.Adam(model.parameters())
            k = iter(range(10**9))

            def step(model=model, adam=adam, batch=batch, k=k):
                train.train_step(model, adam, 0.01, tokens, next(k), 10**9, batch, 16, "cpu")

            rows.append((f"PyTorch CPU {dtype}", batch, step))
    rates = median_rates(rows, args.blocks, args.docs)

    base = rates[0]
    print()
    print("| engine | documents per step | documents/s | vs TinyGPT |")
    print("| --- | ---: | ---: | ---: |")
    for (name, batch, _), rate in zip(rows, rates):
        print(f"| {name} | {batch} | {rate:,.0f} | {rate / base:.2f}x |")


if __name__ == "__main__":
    main()
