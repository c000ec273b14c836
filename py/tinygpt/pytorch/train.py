"""Train TinyGPT's GPT in PyTorch: on a CPU, on a GPU, or on several GPUs with torchrun.

    python train.py --data data.txt --steps 1000 --out trained.json    # fresh, as TinyGPT
    python train.py --init model.json --steps 1000 --out trained.json  # from the exported weights
    torchrun --standalone --nproc_per_node=4 train.py --batch 64 ...    # DistributedDataParallel

Without --init, a run starts exactly as TinyGPT's does: the documents are the non-empty
stripped lines, random.seed(seed) shuffles them, and the same random stream draws the
weights. Step k trains on documents k*batch ... k*batch+batch-1 (modulo their count) with
Adam (beta1 0.85, beta2 0.99, eps 1e-8) and lr_k = lr * (1 - k / steps). With --dtype
float64 and --batch 1 the losses are TinyGPT's to about 1e-12.

Settings default to the exported run's (read from --init, or from model.json beside this
file), then to TinyGPT's defaults. The result is a TinyGPT model file (--out) that the
page ("Open model file") and `python -m tinygpt sample/eval` read.
"""

import argparse
import hashlib
import json
import math
import os
import random
import sys
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore", message="Failed to initialize NumPy")  # torch works without
import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
from model import (  # noqa: E402
    GPT,
    GPTConfig,
    Tokenizer,
    batch_tensors,
    check_model_data,
    evaluate,
    load_model_file,
    model_file,
    read_documents,
)
from torch.nn.parallel import DistributedDataParallel as DDP  # noqa: E402

HERE = Path(__file__).resolve().parent
TINYGPT_DEFAULTS = {
    "n_embd": 16, "n_head": 4, "n_layer": 1, "block_size": 16, "steps": 1000, "lr": 0.01,
    "batch": 1, "seed": 42, "val_fraction": 0.0, "beta1": 0.85, "beta2": 0.99, "eps": 1e-8,
}
SHAPE = ("n_embd", "n_head", "n_layer", "block_size")
# What TinyGPT (the page, python -m tinygpt) loads; larger models train and sample here only.
TINYGPT_LIMITS = {"n_embd": 256, "n_head": 64, "n_layer": 8, "block_size": 256, "chars": 256}
MAX_BATCH = 2**20  # documents per step: far more than any GPU's memory takes here
CHECKPOINT_KEYS = {"step", "losses", "settings", "chars", "data_sha256", "prior_steps", "model",
                   "optimizer"}


class UsageError(Exception):
    """Bad input: reported as one line on stderr."""


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage block
        raise UsageError(f"{message} (see: python train.py --help)")


def parse_args(argv=None):
    p = Parser(description=__doc__.splitlines()[0],
               epilog="Settings left out (--steps to --val-fraction) are the recorded run's: "
               "--init's, else model.json's beside train.py; else TinyGPT's defaults.")
    p.add_argument("--data", help="text file, one document per line (default: data.txt here)")
    p.add_argument("--init", help="start from this TinyGPT model file's weights")
    p.add_argument("--resume", help="continue an interrupted run from its OUT.ckpt.pt")
    p.add_argument("--steps", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--batch", type=int, help="documents per step (over all processes)")
    p.add_argument("--seed", type=int)
    p.add_argument("--n-embd", type=int)
    p.add_argument("--n-head", type=int)
    p.add_argument("--n-layer", type=int)
    p.add_argument("--block-size", type=int)
    p.add_argument("--val-fraction", type=float, help="share of documents held out (0 to 0.5)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="auto")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice; "
                   "1 is fastest for small models)")
    p.add_argument("--out", default="trained.json", help="the trained TinyGPT model file")
    p.add_argument("--log-file", help="one JSON line per step: {\"step\": K, \"loss\": X}")
    p.add_argument("--ckpt-every", type=int, default=1000, help="steps between checkpoints")
    p.add_argument("--print-every", type=int, default=1)
    p.add_argument("--eval", action="store_true",
                   help="only print the loss of --init (or model.json) on --data, as tinygpt eval")
    return p.parse_args(argv)


# --- settings -------------------------------------------------------------------------


# What each run setting may be: TinyGPT's ranges, but the steps, the batch and the shape
# go as far as a GPU takes them. (whole number?, low, high or None, low itself excluded?,
# high itself excluded?)
RANGES = {
    "steps": (True, 1, None, False, False), "batch": (True, 1, MAX_BATCH, False, False),
    "seed": (True, 0, None, False, False), "lr": (False, 0, None, True, False),
    "val_fraction": (False, 0, 0.5, False, False), "beta1": (False, 0, 1, False, True),
    "beta2": (False, 0, 1, False, True), "eps": (False, 0, None, True, False),
    "n_embd": (True, 1, None, False, False), "n_head": (True, 1, None, False, False),
    "n_layer": (True, 1, None, False, False), "block_size": (True, 1, None, False, False),
}


def out_of_range(key, value):
    """What setting `key` must be, if `value` is not that (else None)."""
    whole, low, high, low_open, high_open = RANGES[key]
    kind = "a whole number" if whole else "a finite number"
    what = f"{kind} {'above' if low_open else 'at least'} {low}" + (
        "" if high is None else f" and {'below' if high_open else 'at most'} {high:,}")
    if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)):
        return what
    if not whole and not math.isfinite(value):
        return what
    below = value <= low if low_open else value < low
    above = high is not None and (value >= high if high_open else value > high)
    return what if below or above else None


def recorded_settings(path):
    """TinyGPT's defaults, overridden by what a model file records of its run: its config
    (once the file is checked whole: its shape is what a fresh run allocates) and the
    meta's run settings, each in its range; one that is not is left out, with a note."""
    s = dict(TINYGPT_DEFAULTS)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ValueError(f"{path} is not a TinyGPT model file (it is not JSON).") from None
    config, _, _ = check_model_data(data, path)
    meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
    settings = meta.get("settings") if isinstance(meta.get("settings"), dict) else {}
    s.update({key: config[key] for key in SHAPE})
    for source, keys, where in ((meta, ("seed", "steps", "batch"), "meta"),
                                (settings, [k for k in s if k not in SHAPE], "meta.settings")):
        for key in keys:
            if key not in source:
                continue
            value, why = source[key], out_of_range(key, source[key])
            if where == "meta" and key == "steps" and value == 0 and type(value) is int:
                continue  # exported before its first step: nothing to go on from
            if why is None:
                s[key] = value
            else:
                print(f"note: {path}'s {where}.{key} ({str(value)[:40]}) is left out: it must "
                      f"be {why}; using {s[key]}.", flush=True)
    return s


def resolve_settings(args):
    """The run's settings: the command line, else the recorded run's, else TinyGPT's."""
    given = {k: getattr(args, k) for k in TINYGPT_DEFAULTS if getattr(args, k, None) is not None}
    source = args.init or (HERE / "model.json" if (HERE / "model.json").is_file() else None)
    s = recorded_settings(source) if source else dict(TINYGPT_DEFAULTS)
    if args.init:
        for key in SHAPE:
            if key in given and given[key] != s[key]:
                raise UsageError(f"--{key.replace('_', '-')} {given[key]} differs from the "
                                 f"model in {args.init} ({s[key]}): leave it out with --init.")
    for key, value in given.items():
        why = out_of_range(key, value)
        if why is not None:
            raise UsageError(f"--{key.replace('_', '-')} must be {why}"
                             + ("; try 0.01." if key == "lr" else "."))
    s.update(given)
    if s["n_embd"] % s["n_head"]:
        raise UsageError(f"--n-embd ({s['n_embd']}) must be divisible by --n-head ({s['n_head']}).")
    return s


def split_documents(docs, fraction):
    """(train, validation): the last round(len * fraction) documents, at least 1 if fraction > 0."""
    n_val = round(len(docs) * fraction)
    if fraction > 0 and n_val == 0:
        n_val = 1
    if len(docs) - n_val < 1:
        raise UsageError("Too few documents to hold some out: add some or lower --val-fraction.")
    return docs[: len(docs) - n_val], docs[len(docs) - n_val :]


def pick_device(name, local_rank):
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else (
            "mps" if torch.backends.mps.is_available() else "cpu")
    if name == "cuda":
        if not torch.cuda.is_available():
            raise UsageError("--device cuda: torch sees no CUDA GPU here; use --device cpu.")
        torch.cuda.set_device(local_rank)
        return torch.device("cuda", local_rank)
    if name == "mps" and not torch.backends.mps.is_available():
        raise UsageError("--device mps: this torch has no MPS device; use --device cpu.")
    return torch.device(name)


# --- Adam and one step -----------------------------------------------------------------


class Adam:
    """TinyGPT's Adam: m and v running means of the gradient and its square, then
    p -= lr_k * m_hat / (sqrt(v_hat) + eps) with bias corrections for step k + 1.

    The same numbers as torch.optim.Adam (to rounding), written out: it is TinyGPT's update
    line for line, and it spares torch.optim's first call, which imports torch._dynamo
    (seconds), and its per-step overhead, a third of a small model's step on a CPU.
    """

    def __init__(self, params, beta1=0.85, beta2=0.99, eps=1e-8):
        self.params = list(params)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]

    @torch.no_grad()
    def step(self, k, lr):
        """Step k (0-based) with learning rate lr, from the gradients in p.grad."""
        b1, b2 = self.beta1, self.beta2
        rate = lr / (1 - b1 ** (k + 1))
        unbias = 1 / (1 - b2 ** (k + 1))
        for p, m, v in zip(self.params, self.m, self.v):
            m.mul_(b1).add_(p.grad, alpha=1 - b1)
            v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
            p.addcdiv_(m, (v * unbias).sqrt_().add_(self.eps), value=-rate)

    def state_dict(self):
        return {"m": self.m, "v": self.v}

    @torch.no_grad()
    def load_state_dict(self, state):
        for mine, saved in zip(self.m + self.v, state["m"] + state["v"]):
            mine.copy_(saved)



def train_step(model, optimizer, lr, docs, k, steps, batch, block_size, device,
               rank=0, world=1):
    """One Adam step on documents k*batch ... k*batch+batch-1 (modulo their count).

    Each of the `world` processes takes every world-th of them. DDP averages gradients
    over processes, so each weighs its documents by world / batch: the result is the
    gradient of the mean over all the step's documents, however they are shared out.
    Returns the step's loss (the mean of its documents' losses, over all processes).
    """
    step_docs = [docs[(k * batch + j) % len(docs)] for j in range(batch)]
    share, weight = step_docs[rank::world], world / batch
    if not share:  # more processes than documents: take part in the step, add nothing
        share, weight = step_docs[:1], 0.0
    idx, targets = batch_tensors(share, block_size, device)
    _, losses = model(idx, targets)
    local = losses.sum()
    model.zero_grad(set_to_none=True)
    (local * weight).backward()
    optimizer.step(k, lr * (1 - k / steps))  # the learning rate falls linearly to 0
    total = local.detach() * (1.0 if weight else 0.0)
    if world > 1:
        dist.all_reduce(total)
    return total.item() / batch


# --- files ----------------------------------------------------------------------------


def write_atomic(path, save):
    """Write through save(tmp_path), then rename: `path` is whole or untouched."""
    tmp = Path(f"{path}.tmp{os.getpid()}")
    try:
        save(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path, data):
    write_atomic(path, lambda tmp: tmp.write_text(json.dumps(data), encoding="utf-8"))


def checkpoint_paths(out):
    base = out[: -len(".json")] if out.endswith(".json") else out
    return f"{base}.ckpt.json", f"{base}.ckpt.pt"


def check_output(path, what):
    if Path(path).is_dir():
        raise UsageError(f"Cannot write the {what} {path}: it is a folder.")
    if not Path(path).resolve().parent.is_dir():
        raise UsageError(f"Cannot write the {what} {path}: its folder does not exist.")


def load_checkpoint(path):
    """What a checkpoint (OUT.ckpt.pt) holds to continue its run exactly."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(state, dict) or not CHECKPOINT_KEYS <= set(state):
            raise ValueError
    except OSError:
        raise
    except Exception:  # torch.load's many ways to refuse a file that is not its own
        raise UsageError(f"{path} is not a checkpoint of train.py (OUT.ckpt.pt).") from None
    return state


# --- the run --------------------------------------------------------------------------


def run(args):
    rank = int(os.environ.get("RANK", "0"))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    device = pick_device(args.device, int(os.environ.get("LOCAL_RANK", "0")))
    if args.print_every < 1 or args.ckpt_every < 0:
        raise UsageError("--print-every must be at least 1 and --ckpt-every at least 0.")
    if args.threads is not None:
        if args.threads < 1:
            raise UsageError("--threads must be at least 1.")
        torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    if dtype == torch.float64 and device.type == "mps":
        raise UsageError("MPS has no float64: use --dtype float32.")
    data = args.data or str(HERE / "data.txt")
    if args.data is None and not Path(data).is_file():
        raise UsageError("No data: pass --data FILE (one document per line).")

    if args.eval:
        init = args.init or str(HERE / "model.json")
        model, tokenizer, _ = load_model_file(init)
        model.to(device=device, dtype=dtype)
        tokens = [tokenizer.encode(doc) for doc in read_documents(data)]
        print(json.dumps({"loss": evaluate(model, tokens, device=device), "docs": len(tokens)}))
        return 0

    resume = None
    if args.resume:
        if args.init or any(getattr(args, k, None) is not None for k in TINYGPT_DEFAULTS):
            raise UsageError("--resume continues a run with its own settings: "
                             "leave out --init and the run's settings.")
        resume = load_checkpoint(args.resume)
        s = resume["settings"]
    else:
        s = resolve_settings(args)
    if world > 1 and device.type == "mps":
        raise UsageError("Several processes need CUDA GPUs or CPUs, not MPS.")
    for path, what in ((args.out, "model file"), (args.log_file, "log file")):
        if path:
            check_output(path, what)

    docs = read_documents(data)
    digest = hashlib.sha256("\n".join(docs).encode()).hexdigest()
    rng = random.Random(s["seed"])
    rng.shuffle(docs)  # the order training visits them, as in TinyGPT
    prior_steps = 0
    if resume:
        if resume["data_sha256"] != digest:
            raise UsageError(f"{data} is not the data the checkpoint was trained on.")
        tokenizer = Tokenizer(resume["chars"])
        model = GPT(GPTConfig(tokenizer.vocab_size, *(s[k] for k in SHAPE)))
        prior_steps = resume["prior_steps"]
    elif args.init:
        model, tokenizer, meta = load_model_file(args.init)
        prior_steps = meta.get("steps") if type(meta.get("steps")) is int else 0
    else:
        tokenizer = Tokenizer.from_docs(docs)
        model = GPT(GPTConfig(tokenizer.vocab_size, *(s[k] for k in SHAPE)))
        model.init_tinygpt_(rng)  # the same stream that shuffled: TinyGPT's first weights
    train_docs, val_docs = split_documents(docs, s["val_fraction"])
    train_tokens = [tokenizer.encode(doc) for doc in train_docs]  # checks the vocabulary
    val_tokens = [tokenizer.encode(doc) for doc in val_docs]

    model.to(device=device, dtype=dtype)
    optimizer = Adam(model.parameters(), s["beta1"], s["beta2"], s["eps"])
    start, losses = 0, []
    if resume:
        model.load_state_dict(resume["model"])
        optimizer.load_state_dict(resume["optimizer"])
        start, losses = resume["step"], list(resume["losses"])
    if world > 1:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        ddp = DDP(model, device_ids=[device.index] if device.type == "cuda" else None)
    else:
        ddp = model
    main = rank == 0
    if main:
        n_params = sum(p.numel() for p in model.parameters())
        print(f"{len(train_docs)} training and {len(val_docs)} validation documents, "
              f"vocabulary {tokenizer.vocab_size}, {n_params:,} parameters, {device} "
              f"{args.dtype}, {world} process{'es' if world > 1 else ''}", flush=True)
        c = model.config
        if (any(getattr(c, k) > TINYGPT_LIMITS[k] for k in SHAPE)
                or len(tokenizer.chars) > TINYGPT_LIMITS["chars"]):
            print(f"note: TinyGPT loads models up to {TINYGPT_LIMITS}; this one stays in PyTorch.")

    def meta(step, loss, val_loss=None):
        settings = {k: s[k] for k in TINYGPT_DEFAULTS if k not in SHAPE}
        return {"source": "pytorch", "dataset": Path(data).name, "steps": prior_steps + step,
                "loss": loss, "val_loss": val_loss, "seed": s["seed"], "settings": settings,
                "device": device.type, "dtype": args.dtype, "processes": world}

    ckpt_json, ckpt_pt = checkpoint_paths(args.out)
    log = open(args.log_file, "w", encoding="utf-8") if main and args.log_file else None
    try:
        if log:  # a resumed run's log starts with the steps before the checkpoint
            for i, x in enumerate(losses):
                log.write(json.dumps({"step": i + 1, "loss": x}) + "\n")
        began = time.perf_counter()
        for k in range(start, s["steps"]):
            loss = train_step(ddp, optimizer, s["lr"], train_tokens, k, s["steps"], s["batch"],
                              model.config.block_size, device, rank, world)
            if not math.isfinite(loss):
                raise ValueError(f"Training diverged at step {k + 1}: the loss is not a finite "
                                 "number. Lower the learning rate (try 0.01) and start again.")
            losses.append(loss)
            if not main:
                continue
            if log:
                log.write(json.dumps({"step": k + 1, "loss": loss}) + "\n")
                log.flush()
            if (k + 1) % args.print_every == 0 or k + 1 == s["steps"]:
                print(f"step {k + 1} / {s['steps']} | loss {loss:.4f}", flush=True)
            if args.ckpt_every > 0 and (k + 1) % args.ckpt_every == 0 and k + 1 < s["steps"]:
                write_json(ckpt_json, model_file(model, tokenizer, meta(k + 1, loss)))
                state = {"step": k + 1, "losses": losses, "settings": s, "chars": tokenizer.chars,
                         "data_sha256": digest, "prior_steps": prior_steps,
                         "model": model.state_dict(), "optimizer": optimizer.state_dict()}
                write_atomic(ckpt_pt, lambda tmp, state=state: torch.save(state, tmp))
                print(f"checkpoint {ckpt_json} (resume with --resume {ckpt_pt})", flush=True)
        seconds = time.perf_counter() - began
    finally:
        if log:
            log.close()
    if main:
        done = s["steps"] - start
        print(f"{done} steps in {seconds:.1f} s, {done * s['batch'] / max(seconds, 1e-9):.0f} "
              "documents/s")
        val_loss = None
        if val_tokens:
            val_loss = evaluate(model, val_tokens, device=device)
            print(f"validation loss {val_loss!r} on {len(val_tokens)} documents")
        write_json(args.out, model_file(model, tokenizer, meta(s["steps"], losses[-1], val_loss)))
        for path in (ckpt_json, ckpt_pt):
            Path(path).unlink(missing_ok=True)
        print(f"saved {args.out}")
    if world > 1:
        dist.barrier()
        del ddp  # its reducer holds the process group and its last work: freed first
        dist.destroy_process_group()
        # Everything is written and closed; a process of a distributed run ends here,
        # without the interpreter's own teardown, during which a gloo thread still alive
        # aborted a finished run now and then on a busy machine ("terminate called
        # without an active exception": twice in two days of test runs beside other
        # work, never when retried alone).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    return 0


def main(argv=None):
    try:
        return run(parse_args(argv))
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except ValueError as e:  # a damaged model file or data, a run that diverges
        print(f"error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"error: {e.strerror or e}: {e.filename or ''}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
