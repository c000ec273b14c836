"""The command line: `python -m tinygpt train | sample | eval | export | schema | bench`.

Bad input ends with one line on stderr and a non-zero exit, never a traceback, and
no output file is left behind.
"""

import argparse
import json
import os
import sys
import tempfile
from contextlib import ExitStack, contextmanager
from pathlib import Path

from . import bench, checkpoint, export
from . import settings as table
from .data import MAX_TEXT_CHARS, parse_documents
from .errors import TinyGPTError
from .trainer import Trainer, headline_loss


class UsageError(TinyGPTError):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage block
        raise UsageError(f"{message} (see: {self.prog} --help)")


# Training text is at most MAX_TEXT_CHARS characters (up to 4 bytes each in UTF-8);
# a model file may be as large as the biggest model the settings allow.
MAX_BYTES = {"data file": 4 * MAX_TEXT_CHARS, "model file": checkpoint.MAX_FILE_CHARS}
WHY_LIMIT = {"data file": f"{MAX_TEXT_CHARS:,} characters, what the page can train on",
             "model file": f"{checkpoint.MAX_FILE_CHARS:,} bytes, the largest model file"}


def read_text(path, what="data file"):
    p = Path(path)
    try:
        if p.is_dir():
            raise TinyGPTError(f"The {what} {path} is a directory, not a file.")
        if p.stat().st_size > MAX_BYTES[what]:
            raise TinyGPTError(f"The {what} {path} is too large: the limit is {WHY_LIMIT[what]}.")
        raw = p.read_bytes()
    except FileNotFoundError:
        raise TinyGPTError(f"The {what} {path} does not exist.") from None
    except OSError as e:
        raise TinyGPTError(f"Cannot read the {what} {path}: {e.strerror or e}.") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise TinyGPTError(f"The {what} {path} is not UTF-8 text (is it a binary file?).") from None


@contextmanager
def atomic_file(path, what):
    """A text file that appears at `path` whole when the block ends, or not at all.

    It is written under a temporary name in the same folder and renamed into place,
    so an error (or Ctrl-C) half-way leaves nothing behind.
    """
    target = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as e:
        raise TinyGPTError(f"Cannot write the {what} {path}: {e.strerror or e}.") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            yield f
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes it private; a model file is not
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_writable_dir(path, what):
    if path is None:
        return
    if Path(path).is_dir():
        raise TinyGPTError(f"Cannot write the {what} {path}: it is a folder.")
    if not Path(path).resolve().parent.is_dir():
        raise TinyGPTError(f"Cannot write the {what} {path}: its folder does not exist.")


def load_model(path):
    return checkpoint.loads(read_text(path, "model file"))


# --- commands ----------------------------------------------------------------------------


# microgpt.py's line before its samples, and the form of each sample's line.
SAMPLES_HEADER = "--- inference (new, hallucinated names) ---"
MAX_SAMPLES = table.BY_NAME["n"].high


def check_samples(n):
    if not 0 <= n <= MAX_SAMPLES:
        raise UsageError(f"--samples must be between 0 and {MAX_SAMPLES}; it is {n}.")
    return n


def print_samples(trainer, n):
    """The names microgpt.py prints after its run: drawn with the run's own random
    generator, which shuffled the names and drew the weights and goes on from there (a
    seed of its own would give other names), at microgpt.py's temperature."""
    if not n:
        return
    print(SAMPLES_HEADER)
    temperature = table.MICROGPT_SAMPLES["temperature"]
    for i, name in enumerate(trainer.sample(n, temperature, rng=trainer.rng), start=1):
        print(f"sample {i:2d}: {name}")


def cmd_train(args):
    check_samples(args.samples)
    check_writable_dir(args.out, "model file")
    check_writable_dir(args.log, "log file")
    if args.out and args.log and Path(args.out).resolve() == Path(args.log).resolve():
        raise TinyGPTError("--out and --log must be different files.")
    settings = run_settings(args)
    trainer = Trainer(read_text(args.data), **settings)
    with ExitStack() as files:  # both files appear only if the whole run succeeds
        out = files.enter_context(atomic_file(args.out, "model file")) if args.out else None
        log = files.enter_context(atomic_file(args.log, "log file")) if args.log else None
        while not trainer.done:
            loss = trainer.step()
            print(f"step {trainer.step_count} / {trainer.steps} | loss {loss:.4f}", flush=True)
            if log:
                log.write(json.dumps({"step": trainer.step_count, "loss": loss}) + "\n")
        val = trainer.evaluate()
        if val is not None:
            print(f"validation loss {val:.4f} on {len(trainer.val_docs)} names")
        if out:
            meta = {
                "dataset": Path(args.data).name,
                "seed": settings["seed"],
                "engine": settings["engine"],
                "val_loss": val,
                "loss": headline_loss(trainer.losses, val),
                "source": "cli",
                "recipe": args.recipe,
                # what an exported PyTorch project takes as train.py's defaults
                "settings": {k: settings[k] for k in export.RUN_SETTINGS},
            }
            out.write(json.dumps(trainer.model_file(meta)))
    print_samples(trainer, args.samples)
    if args.out:
        print(f"saved {args.out}")


def run_settings(args):
    """The recipe's settings (microgpt's by default), then every option given."""
    given = {s.name: getattr(args, s.name) for s in table.RUN if s.cli}
    return table.check_run_settings(
        {**table.recipe_settings(args.recipe), **{k: v for k, v in given.items() if v is not None}}
    )


def cmd_sample(args):
    model = load_model(args.model)
    for name in model.sample(args.n, args.temperature, args.prefix, args.sample_seed):
        print(name)


def cmd_eval(args):
    model = load_model(args.model)
    docs = parse_documents(read_text(args.data))
    print(json.dumps({"loss": model.evaluate_docs(docs), "docs": len(docs)}))


def cmd_bench(args):
    """Median ms per step of both engines, and documents per second by batch (bench.py)."""
    path = Path(args.data) if args.data else bench.DEFAULT_DATA
    if args.data is None and not path.exists():
        raise TinyGPTError("No default dataset found: pass --data FILE.")
    if args.scalar_steps < 1 or args.fast_steps < args.scalar_steps:
        raise TinyGPTError("Use --scalar-steps >= 1 and --fast-steps >= --scalar-steps.")
    bench.run(read_text(path), path.name, args.fast_steps, args.scalar_steps)


def cmd_export(args):
    """A standalone PyTorch project of a model (export.py), in a new or empty folder."""
    text = read_text(args.data) if args.data else None
    model = load_model(args.model)
    files = export.project_files(model, text)
    export.write_project(files, args.out)
    print(f"exported to {args.out}: {', '.join(files)}")
    for why in export.train_settings(model.meta)[1]:  # train.py uses its own defaults instead
        print(f"left out of train.py's defaults: {why}")
    init = "--init model.json" + (" --data data.txt" if "data.txt" in files else " --data FILE")
    print(f"next: cd {args.out} && pip install -r requirements.txt && python train.py {init}")


def cmd_schema(args):
    """The settings table, recipes and page limits as JSON: the build writes it into the
    site (schema.json) so the page has its form and limits before Python starts."""
    from .session import schema

    print(json.dumps(schema(), indent=1 if args.pretty else None))


def build_parser():
    parser = Parser(prog="python -m tinygpt", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    train = sub.add_parser("train", help="train a model on a file of names, one per line")
    train.add_argument("--data", required=True, help="text file, one document per line")
    train.add_argument(
        "--recipe", choices=list(table.RECIPES), default=table.DEFAULT_RECIPE,
        help="a named set of settings; the options below change it (default: microgpt)",
    )
    table.add_cli_options(train, "run", defaults=False)
    train.add_argument("--out", help="write the trained model here (JSON)")
    train.add_argument("--log", help="write one JSON line per step here")
    train.add_argument(
        "--samples", type=int, default=table.MICROGPT_SAMPLES["n"], metavar="N",
        help="names to print after training, as microgpt.py prints them: drawn with the run's "
        f"own random generator at temperature {table.MICROGPT_SAMPLES['temperature']} "
        f"(default: {table.MICROGPT_SAMPLES['n']}; 0 for none; at most {MAX_SAMPLES})",
    )
    train.set_defaults(run=cmd_train)

    sample = sub.add_parser("sample", help="generate names with a trained model")
    sample.add_argument("--model", required=True)
    table.add_cli_options(sample, "generate")
    sample.set_defaults(run=cmd_sample)

    evaluate = sub.add_parser("eval", help="mean loss of a model on a file of names")
    evaluate.add_argument("--model", required=True)
    evaluate.add_argument("--data", required=True)
    evaluate.set_defaults(run=cmd_eval)

    schema = sub.add_parser("schema", help="print the settings table, recipes and limits (JSON)")
    schema.add_argument("--pretty", action="store_true", help="indent the JSON")
    schema.set_defaults(run=cmd_schema)

    bench = sub.add_parser("bench", help="ms per step of the fast and scalar engines")
    bench.add_argument("--data", default=None, help="default: public/data/first_names.txt")
    bench.add_argument("--fast-steps", type=int, default=300)
    bench.add_argument("--scalar-steps", type=int, default=20)
    bench.set_defaults(run=cmd_bench)
    exporting = sub.add_parser("export", help="write a standalone PyTorch project of a model")
    exporting.add_argument("--model", required=True, help="a TinyGPT model file")
    exporting.add_argument("--data", help="the text it was trained on, copied as data.txt")
    exporting.add_argument("--out", required=True, help="the project's folder (new or empty)")
    exporting.set_defaults(run=cmd_export)
    return parser


def main(argv=None):
    try:
        args = build_parser().parse_args(argv)
        args.run(args)
    except TinyGPTError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2 if isinstance(e, UsageError) else 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `python -m tinygpt sample ... | head`
        sys.stderr.close()
        return 0
    except OSError as e:  # a disk that fills up, a file that vanishes: still one line
        print(f"error: {e.strerror or e} ({e.filename or 'a file'}).", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
