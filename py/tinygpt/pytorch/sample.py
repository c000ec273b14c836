"""Generate names with a TinyGPT model file, in PyTorch.

    python sample.py --model trained.json --n 20 --temperature 0.5 --seed 42 --prefix jo

Each name starts from BOS (and the prefix); the next letter is drawn from
softmax(logits / temperature) until BOS comes out or the name has block_size letters.
--temperature 0 always takes the most likely letter (greedy): those names are TinyGPT's.
"""

import argparse
import math
import sys
import warnings
from pathlib import Path

warnings.filterwarnings("ignore", message="Failed to initialize NumPy")  # torch works without
import torch  # noqa: E402
from model import load_model_file  # noqa: E402

HERE = Path(__file__).resolve().parent


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage block
        raise UsageError(f"{message} (see: python sample.py --help)")


def default_model():
    """trained.json (what train.py writes) if there is one, else the exported model.json."""
    trained = Path("trained.json")
    return str(trained) if trained.is_file() else str(HERE / "model.json")


@torch.no_grad()
def generate(model, tokenizer, n=20, temperature=0.5, prefix="", seed=None, device="cpu"):
    """`n` names; temperature 0 takes the most likely letter each time."""
    if not (math.isfinite(temperature) and temperature >= 0):
        raise UsageError("--temperature must be 0 (greedy) or a finite number above it.")
    block_size = model.config.block_size
    start = tokenizer.ids(prefix)
    if len(start) >= block_size:
        raise UsageError(
            f"The prefix is too long: the model sees {block_size} positions, BOS included."
        )
    generator = torch.Generator(device=device)
    if seed is not None:
        generator.manual_seed(seed)
    else:
        generator.seed()
    names = []
    for _ in range(n):
        ids = list(start)
        while True:
            idx = torch.tensor([[tokenizer.bos] + ids], device=device)
            logits = model(idx)[0][0, -1]
            if temperature == 0:
                token = int(torch.argmax(logits))
            else:
                probs = torch.softmax(logits / temperature, dim=-1)
                token = int(torch.multinomial(probs, 1, generator=generator))
            if token == tokenizer.bos:
                break
            ids.append(token)
            if len(ids) >= block_size:  # BOS and block_size - 1 letters fill the block
                break
        names.append(tokenizer.decode(ids))
    return names


def main(argv=None):
    p = Parser(description=__doc__.splitlines()[0])
    p.add_argument("--model", help="a TinyGPT model file (default: trained.json, else model.json)")
    p.add_argument("--n", type=int, default=20)
    p.add_argument("--temperature", type=float, default=0.5)
    p.add_argument("--seed", type=int)
    p.add_argument("--prefix", default="")
    p.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="auto")
    try:
        args = p.parse_args(argv)
        device = args.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else (
                "mps" if torch.backends.mps.is_available() else "cpu")
        elif device == "cuda" and not torch.cuda.is_available():
            raise UsageError("--device cuda: torch sees no CUDA GPU here; use --device cpu.")
        elif device == "mps" and not torch.backends.mps.is_available():
            raise UsageError("--device mps: this torch has no MPS device; use --device cpu.")
        if args.n < 1:
            raise UsageError("--n must be at least 1.")
        if args.seed is not None and args.seed < 0:
            raise UsageError("--seed must be 0 or more.")
        if not (math.isfinite(args.temperature) and args.temperature >= 0):
            raise UsageError("--temperature must be 0 (greedy) or a finite number above it.")
        model, tokenizer, _ = load_model_file(args.model or default_model())
        model.to(device=device, dtype=torch.float32 if device == "mps" else torch.float64)
        model.eval()
        for name in generate(model, tokenizer, args.n, args.temperature, args.prefix, args.seed,
                             device):
            print(name)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except ValueError as e:  # a damaged model file, a letter the model does not know
        print(f"error: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # python sample.py | head
        sys.stderr.close()
        return 0
    except OSError as e:
        print(f"error: {e.strerror or e}: {e.filename or ''}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
