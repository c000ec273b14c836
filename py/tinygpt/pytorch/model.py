"""TinyGPT's GPT in PyTorch: the very model the page trains, in the style of nanoGPT.

Character tokens, learned position embeddings, RMSNorm without weights, multi-head
causal self-attention and a ReLU MLP, no biases anywhere: exactly the function of
TinyGPT (and of Karpathy's microgpt.py), so a TinyGPT model file loads here and
computes the same losses, and a model trained here goes back to TinyGPT as a model file.

Only torch is needed: nothing here imports tinygpt.
"""

import json
import math
import warnings
from dataclasses import dataclass

warnings.filterwarnings("ignore", message="Failed to initialize NumPy")  # torch works without
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

FORMAT, VERSION = "tinygpt-model", 1  # TinyGPT's model files
INIT_STD = 0.08
RMS_EPS = 1e-5


@dataclass
class GPTConfig:
    vocab_size: int
    n_embd: int = 16
    n_head: int = 4
    n_layer: int = 1
    block_size: int = 16


def rmsnorm(x):
    """x * (mean(x * x) + 1e-5) ** -0.5 over the last dimension (no learned scale)."""
    return x * (x.pow(2).mean(-1, keepdim=True) + RMS_EPS).rsqrt()


class CausalSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        self.n_head = config.n_head
        self.wq = nn.Linear(config.n_embd, config.n_embd, bias=False)
        self.wk = nn.Linear(config.n_embd, config.n_embd, bias=False)
        self.wv = nn.Linear(config.n_embd, config.n_embd, bias=False)
        self.wo = nn.Linear(config.n_embd, config.n_embd, bias=False)

    def forward(self, x):
        B, T, C = x.size()  # batch, positions, n_embd
        # (B, T, C) -> (B, n_head, T, head_dim)
        q = self.wq(x).view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        k = self.wk(x).view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = self.wv(x).view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        # softmax(q k^T / sqrt(head_dim)) v, each position seeing itself and the ones before
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # heads side by side again
        return self.wo(y)


class MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.fc1 = nn.Linear(config.n_embd, 4 * config.n_embd, bias=False)
        self.fc2 = nn.Linear(4 * config.n_embd, config.n_embd, bias=False)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.attn = CausalSelfAttention(config)
        self.mlp = MLP(config)

    def forward(self, x):
        x = x + self.attn(rmsnorm(x))
        x = x + self.mlp(rmsnorm(x))
        return x


class GPT(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.block_size, config.n_embd)
        self.layers = nn.ModuleList([Block(config) for _ in range(config.n_layer)])
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)

    def forward(self, idx, targets=None):
        """Logits (B, T, vocab) for token ids `idx` (B, T), and with `targets` (B, T) the
        loss of each document (B,): the mean cross-entropy over its positions whose
        target is not -1 (the padding of shorter documents)."""
        B, T = idx.size()
        assert T <= self.config.block_size, f"{T} positions; the block has {self.config.block_size}"
        pos = torch.arange(T, device=idx.device)
        x = rmsnorm(self.wte(idx) + self.wpe(pos))
        for block in self.layers:
            x = block(x)
        logits = self.lm_head(x)
        if targets is None:
            return logits, None
        losses = F.cross_entropy(
            logits.reshape(B * T, -1), targets.reshape(B * T), ignore_index=-1, reduction="none"
        ).view(B, T)
        return logits, losses.sum(1) / (targets != -1).sum(1)

    # --- TinyGPT's parameters: names, initialisation, model files -----------------------
    def tinygpt_params(self):
        """[(TinyGPT name, parameter)] in TinyGPT's order; every matrix is (out, in)."""
        named = [("wte", self.wte.weight), ("wpe", self.wpe.weight),
                 ("lm_head", self.lm_head.weight)]
        for i, block in enumerate(self.layers):
            named += [
                (f"layer{i}.attn_wq", block.attn.wq.weight),
                (f"layer{i}.attn_wk", block.attn.wk.weight),
                (f"layer{i}.attn_wv", block.attn.wv.weight),
                (f"layer{i}.attn_wo", block.attn.wo.weight),
                (f"layer{i}.mlp_fc1", block.mlp.fc1.weight),
                (f"layer{i}.mlp_fc2", block.mlp.fc2.weight),
            ]
        return named

    @torch.no_grad()
    def init_tinygpt_(self, rng):
        """TinyGPT's initialisation: every matrix in order, row by row, rng.gauss(0, 0.08).

        `rng` is a random.Random that has just shuffled the documents, as in TinyGPT, so
        the same seed gives the very same starting weights. Leaves the model in float64
        (the numbers as drawn); .to(dtype) afterwards.
        """
        self.double()
        for _, p in self.tinygpt_params():
            rows, cols = p.shape
            values = [[rng.gauss(0, INIT_STD) for _ in range(cols)] for _ in range(rows)]
            p.copy_(torch.tensor(values, dtype=torch.float64))

    @torch.no_grad()
    def load_tinygpt_state_(self, state_dict):
        """Weights from TinyGPT's state dict; leaves the model in float64, as they are."""
        self.double()
        for name, p in self.tinygpt_params():
            p.copy_(torch.tensor(state_dict[name], dtype=torch.float64))

    def tinygpt_state(self):
        """The weights as TinyGPT's state dict: {name: [[float, ...], ...]}."""
        return {name: p.detach().cpu().double().tolist() for name, p in self.tinygpt_params()}


# --- tokens ---------------------------------------------------------------------------


class Tokenizer:
    """One token per character (ids in sorted order); id len(chars) is BOS, start and end."""

    def __init__(self, chars):
        self.chars = list(chars)
        self.bos = len(self.chars)
        self.vocab_size = len(self.chars) + 1
        self._ids = {ch: i for i, ch in enumerate(self.chars)}

    @classmethod
    def from_docs(cls, docs):
        return cls(sorted(set("".join(docs))))

    def ids(self, text):
        missing = sorted(set(text) - set(self._ids))
        if missing:
            raise ValueError(
                f"The characters {''.join(missing)!r} are not in this model's vocabulary."
            )
        return [self._ids[ch] for ch in text]

    def encode(self, doc):
        return [self.bos] + self.ids(doc) + [self.bos]

    def decode(self, ids):
        return "".join(self.chars[i] for i in ids if i != self.bos)


def read_documents(path):
    """The non-empty lines of a UTF-8 text file, each stripped (TinyGPT's documents)."""
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not UTF-8 text (is it a binary file?).") from None
    docs = [line.strip() for line in text.strip().split("\n") if line.strip()]
    if not docs:
        raise ValueError(f"{path} holds no documents: give one name per line.")
    return docs


def batch_tensors(token_lists, block_size, device):
    """Inputs and targets (B, T) for documents of different lengths.

    A document trains on its first min(block_size, len(tokens) - 1) positions, as in
    TinyGPT; shorter documents are padded (input 0, target -1: no loss). Every document
    starts at position 0, so causal attention never looks at another's tokens or at
    padding.
    """
    n = [min(block_size, len(t) - 1) for t in token_lists]
    T = max(n)
    idx = [t[:m] + [0] * (T - m) for t, m in zip(token_lists, n)]
    targets = [t[1 : m + 1] + [-1] * (T - m) for t, m in zip(token_lists, n)]
    return torch.tensor(idx, device=device), torch.tensor(targets, device=device)


@torch.no_grad()
def evaluate(model, token_lists, batch=256, device="cpu"):
    """Mean over documents of each document's mean loss (what `tinygpt eval` prints)."""
    total = 0.0
    for i in range(0, len(token_lists), batch):
        idx, targets = batch_tensors(token_lists[i : i + batch], model.config.block_size, device)
        total += sum(model(idx, targets)[1].tolist())  # summed as Python floats
    return total / len(token_lists)


# --- TinyGPT model files ---------------------------------------------------------------


def load_model_file(path):
    """(GPT, Tokenizer, meta) from a TinyGPT model file, checked field by field before
    anything is allocated: a file of a few bytes may claim n_embd 4096 (800 MB of
    weights), so the model is built only once its weights are there, of the right shapes."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ValueError(f"{path} is not a TinyGPT model file (it is not JSON).") from None
    cfg, chars, state = check_model_data(data, path)
    tokenizer = Tokenizer(chars)
    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, **cfg))
    model.load_tinygpt_state_(state)
    meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
    return model, tokenizer, meta


CONFIG_KEYS = ("n_embd", "n_head", "n_layer", "block_size")


def param_shapes(cfg, vocab_size):
    """[(TinyGPT name, rows, cols)] of a model of config `cfg`, in TinyGPT's order: the
    shapes tinygpt_params() has, known without building the model."""
    E = cfg["n_embd"]
    shapes = [("wte", vocab_size, E), ("wpe", cfg["block_size"], E), ("lm_head", vocab_size, E)]
    for i in range(cfg["n_layer"]):
        shapes += [(f"layer{i}.attn_wq", E, E), (f"layer{i}.attn_wk", E, E),
                   (f"layer{i}.attn_wv", E, E), (f"layer{i}.attn_wo", E, E),
                   (f"layer{i}.mlp_fc1", 4 * E, E), (f"layer{i}.mlp_fc2", E, 4 * E)]
    return shapes


def check_model_data(data, path):
    """(config dict, chars, state_dict) of a parsed model file, every field checked
    (nothing allocated): ValueError saying what is wrong."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path} is not a TinyGPT model file.")
    if data.get("version") != VERSION:
        raise ValueError(f"{path} is a TinyGPT model file of another version.")
    cfg, chars = data.get("config"), data.get("chars")
    if not isinstance(cfg, dict) or set(cfg) != set(CONFIG_KEYS) or not all(
        type(cfg[k]) is int and cfg[k] >= 1 for k in CONFIG_KEYS
    ) or cfg["n_embd"] % cfg["n_head"]:
        raise ValueError(f"{path} has an invalid config.")
    if (not isinstance(chars, list) or not chars
            or not all(isinstance(c, str) and len(c) == 1 for c in chars)
            or chars != sorted(set(chars))):
        raise ValueError(f"{path} has an invalid vocabulary.")
    state = data.get("state_dict")
    shapes = param_shapes(cfg, len(chars) + 1)
    if not isinstance(state, dict) or set(state) != {name for name, _, _ in shapes}:
        raise ValueError(f"{path}: the weights do not match the config.")
    for name, rows, cols in shapes:
        m = state[name]
        if not (isinstance(m, list) and len(m) == rows
                and all(isinstance(r, list) and len(r) == cols for r in m)
                and all(_finite(x) for r in m for x in r)):
            raise ValueError(f"{path}: the weights {name} are not {rows} x {cols} finite numbers.")
    return cfg, chars, state


def _finite(x):
    try:
        return type(x) in (int, float) and math.isfinite(x)
    except OverflowError:  # an int too large for a float
        return False


def model_file(model, tokenizer, meta=None):
    """The TinyGPT model-file dict of a model: the page and `python -m tinygpt` read it."""
    c = model.config
    return {
        "format": FORMAT,
        "version": VERSION,
        "config": {"n_embd": c.n_embd, "n_head": c.n_head, "n_layer": c.n_layer,
                   "block_size": c.block_size},
        "chars": list(tokenizer.chars),
        "state_dict": model.tinygpt_state(),
        "meta": dict(meta or {}),
    }
