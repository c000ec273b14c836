"""Lesson 3, part 2 - the fast engine: the same GPT on whole rows, with its own backward.

The scalar engine builds about 59,000 `Value` nodes per step of the default model (59,631
for a six-letter name such as "olivia", lesson 2's count). Here the positions of a
document are processed together, a matrix is a list of rows, and every layer has a
hand-derived backward pass. No object per number: the work is done by a few calls
to generated kernels and C functions (`map`, `zip`) on whole rows, which is what makes
pure Python fast enough to train in a browser tab.

A batch of documents goes through the same passes as one long list of positions:
every layer but attention works row by row anyway, attention looks at one document at
a time, and the weight gradients, sums over positions, come out summed over the batch.
Per document, only the work that grows with its positions remains; the rest (building
the transposed matrices, the optimizer's update) is paid once per batch.

Shapes: n positions, E = n_embd, H heads of D = E / H, V = vocab size. A matrix W is
(out, in), so y = W x means y[r] = dot(W[r], x). `list(zip(*rows))` transposes.
"""

import math
from itertools import repeat
from operator import add, mul, sub

from .kernels import MAX_UNROLL, dot, plain_sum, rowdots
from .model import RMS_EPS

exp, log = math.exp, math.log


def matvecs(W, xs):
    """[W x for x in xs]."""
    return [rowdots(W, x) for x in xs]


def rmsnorm_rows(xs):
    """Normalised rows and their scales s = (mean(x*x) + eps) ** -0.5."""
    E = len(xs[0])
    scales = [(dot(x, x) / E + RMS_EPS) ** -0.5 for x in xs]
    return [list(map(mul, x, repeat(s))) for x, s in zip(xs, scales)], scales


def rmsnorm_back(dys, xs, scales):
    """dx = s*dy - (s^3/E) * dot(dy, x) * x, row by row."""
    E = len(xs[0])
    out = []
    for dy, x, s in zip(dys, xs, scales):
        c = dot(dy, x) * s * s * s / E
        out.append(list(map(sub, map(mul, dy, repeat(s)), map(mul, x, repeat(c)))))
    return out


def add_rows(a, b):
    return [list(map(add, x, y)) for x, y in zip(a, b)]


def weight_grad(dys, xs, groups=None):
    """dW = sum over positions of outer(dy, x): dW[r][c] = dot(dy[:, r], x[:, c]).

    With `groups` (position ranges, see `position_groups`), the dot products run
    group by group and the groups' matrices are added in order: a batch's positions
    then go through the unrolled kernels, which stop at MAX_UNROLL positions.
    """
    if groups is not None and len(groups) > 1:
        total = None
        for a, b in groups:
            part = weight_grad(dys[a:b], xs[a:b])
            total = part if total is None else [list(map(add, t, p)) for t, p in zip(total, part)]
        return total
    cols = list(zip(*xs))
    return [rowdots(cols, g) for g in zip(*dys)]


def position_groups(lengths):
    """Ranges of consecutive positions, whole documents each, of at most MAX_UNROLL
    positions (or one document, if it alone is longer)."""
    groups, a, b = [], 0, 0
    for n in lengths:
        if b > a and b - a + n > MAX_UNROLL:
            groups.append((a, b))
            a = b
        b += n
    groups.append((a, b))
    return groups


def input_grad(dys, W):
    """dx = W^T dy for every position."""
    return matvecs(list(zip(*W)), dys)


class Cache:
    """Keys and values of the positions seen so far, per layer (for generation)."""

    def __init__(self, n_layer):
        self.keys = [[] for _ in range(n_layer)]
        self.values = [[] for _ in range(n_layer)]

    @property
    def length(self):
        return len(self.keys[0])

    def copy(self):
        """Another cache holding the same positions (rows are never changed, only added)."""
        other = Cache(len(self.keys))
        other.keys = [list(k) for k in self.keys]
        other.values = [list(v) for v in self.values]
        return other


def forward(params, config, tokens, cache=None, record=None):
    """Logits for every position of `tokens`, which start at position cache.length.

    With `record` (a dict), keeps what the backward pass needs; the attention weights
    are in record["attention"][layer][0][head], one row per query.
    """
    return forward_docs(params, config, [tokens], [cache or Cache(config.n_layer)], record)


def forward_docs(params, config, docs, caches=None, record=None):
    """Logits for every position of several documents, one after another.

    The positions of all documents go through each layer together (one list of rows),
    so every weight matrix is read once for the lot; only attention looks at one
    document at a time, each with its own cache. record["attention"][layer][d][head]
    holds document d's attention weights.
    """
    H, D = config.n_head, config.head_dim
    if caches is None:
        caches = [Cache(config.n_layer) for _ in docs]
    wte, wpe = params["wte"], params["wpe"]
    emb = [
        list(map(add, wte[tok], wpe[start + p]))
        for tokens, start in zip(docs, [c.length for c in caches])
        for p, tok in enumerate(tokens)
    ]
    spans, o = [], 0
    for tokens in docs:
        spans.append((o, o + len(tokens)))
        o += len(tokens)
    x, s0 = rmsnorm_rows(emb)
    layers = []
    inv_sqrt = 1 / D**0.5
    for li in range(config.n_layer):
        r1 = x
        xn1, s1 = rmsnorm_rows(r1)
        Wqkv = (
            params[f"layer{li}.attn_wq"]
            + params[f"layer{li}.attn_wk"]
            + params[f"layer{li}.attn_wv"]
        )
        qkv = matvecs(Wqkv, xn1)
        x_attn, weights = [], []
        for (a, b), cache in zip(spans, caches):
            out, w = attend(qkv[a:b], cache.keys[li], cache.values[li], H, D, inv_sqrt)
            x_attn += out
            weights.append(w)
        r2 = add_rows(matvecs(params[f"layer{li}.attn_wo"], x_attn), r1)
        xn2, s2 = rmsnorm_rows(r2)
        h1 = matvecs(params[f"layer{li}.mlp_fc1"], xn2)
        act = [[v if v > 0 else 0.0 for v in row] for row in h1]
        x = add_rows(matvecs(params[f"layer{li}.mlp_fc2"], act), r2)
        layers.append((r1, xn1, s1, Wqkv, qkv, weights, x_attn, r2, xn2, s2, h1, act))
    logits = matvecs(params["lm_head"], x)
    if record is not None:
        record.update(emb=emb, s0=s0, layers=layers, x=x, docs=docs, spans=spans,
                      attention=[layer[5] for layer in layers])
    return logits


def attend(qkv, keys, values, H, D, inv_sqrt):
    """Causal self-attention of one document's new positions (rows of q|k|v).

    Appends their keys and values to the document's cache (`keys`, `values`), and
    returns the concatenated head outputs of every position and, per head, the
    attention weights: one row per position, as long as the cache (zeros after the
    query's own position).
    """
    E, n = H * D, len(qkv)
    start = len(keys)
    keys.extend(row[E : 2 * E] for row in qkv)
    values.extend(row[2 * E :] for row in qkv)
    total = len(keys)
    x_attn = [[] for _ in range(n)]
    weights = []
    for h in range(H):
        hs, he = h * D, h * D + D
        k_h = [k[hs:he] for k in keys]
        v_cols = list(zip(*[v[hs:he] for v in values]))
        w_h = []
        for p in range(n):
            q_h = qkv[p][hs:he]
            seen = start + p + 1
            logits = [a * inv_sqrt for a in rowdots(k_h[:seen], q_h)]
            top = max(logits)
            exps = [exp(a - top) for a in logits]
            z = plain_sum(exps)
            w = [e / z for e in exps] + [0.0] * (total - seen)
            w_h.append(w)
            x_attn[p] += rowdots(v_cols, w)
        weights.append(w_h)
    return x_attn, weights


def attend_back(qkv, dattn, weights, H, D, inv_sqrt):
    """The backward pass of `attend` for one document trained from position 0: the
    gradient of the loss with respect to its rows of q|k|v, given that of the outputs."""
    E, n = H * D, len(qkv)
    dq = [[] for _ in range(n)]
    dk = [[] for _ in range(n)]
    dv = [[] for _ in range(n)]
    for h in range(H):
        hs, he = h * D, h * D + D
        q_h = [row[hs:he] for row in qkv]
        k_h = [row[E + hs : E + he] for row in qkv]
        v_h = [row[2 * E + hs : 2 * E + he] for row in qkv]
        dout = [row[hs:he] for row in dattn]
        w_h = weights[h]
        dscores = []  # d loss / d (q . k), zero where masked
        for p in range(n):
            w = w_h[p]
            dw = rowdots(v_h[: p + 1], dout[p])
            mean = dot(w[: p + 1], dw)
            dscores.append(
                [wt * (g - mean) * inv_sqrt for wt, g in zip(w, dw)] + [0.0] * (n - p - 1)
            )
        k_cols, q_cols = list(zip(*k_h)), list(zip(*q_h))
        for p, row in enumerate(matvecs(k_cols, dscores)):
            dq[p] += row
        for p, row in enumerate(matvecs(q_cols, list(zip(*dscores)))):
            dk[p] += row
        for p, row in enumerate(matvecs(list(zip(*dout)), list(zip(*w_h)))):
            dv[p] += row
    return [a + b + c for a, b, c in zip(dq, dk, dv)]


def softmax_rows(logits, temperature=1.0):
    out = []
    for row in logits:
        if temperature != 1.0:
            row = [v / temperature for v in row]
        top = max(row)
        exps = [exp(v - top) for v in row]
        z = plain_sum(exps)
        out.append([e / z for e in exps])
    return out


def loss_and_grads(params, config, tokens):
    """(loss, grads) of one document: the mean over positions p < n of -log P(next)."""
    return batch_loss_and_grads(params, config, [tokens])


def batch_loss_and_grads(params, config, docs, batch=None):
    """(loss, grads) of a batch of documents (lists of token ids): the loss is the mean
    over documents of each document's mean loss, the gradients are that mean's.

    All positions of the batch go through one forward and one backward pass: each
    weight gradient comes out summed over the batch (no per-document gradients to add
    up), and every matrix is transposed once per batch. A batch of one document takes
    exactly the operations of a single document.

    `batch`: when `docs` are a chunk of a larger batch of that many documents, their
    share of its mean: their losses and gradients summed and divided by `batch` (the
    default, len(docs), is the mean of these documents). The chunks' shares add up to
    the batch's loss and gradients (BatchGradients).
    """
    E, H, D = config.n_embd, config.n_head, config.head_dim
    B = len(docs) if batch is None else batch
    lengths = [min(config.block_size, len(tokens) - 1) for tokens in docs]
    rec = {}
    logits = forward_docs(
        params, config, [tokens[:n] for tokens, n in zip(docs, lengths)], record=rec
    )
    spans = rec["spans"]
    groups = position_groups(lengths)

    # cross-entropy and its gradient (probs - onehot) / (n * B)
    total = 0.0
    dlogits = []
    for tokens, n, (a, b) in zip(docs, lengths, spans):
        loss = 0.0
        inv_n, scale = 1 / n, 1 / (n * B)  # at B = 1 the same number
        for row, target in zip(logits[a:b], tokens[1 : n + 1]):
            top = max(row)
            exps = [exp(v - top) for v in row]
            z = plain_sum(exps)
            loss -= log(exps[target] / z)
            g = [e * (scale / z) for e in exps]
            g[target] -= scale
            dlogits.append(g)
        total += loss * inv_n
    loss = total / B

    grads = {"lm_head": weight_grad(dlogits, rec["x"], groups)}
    dx = input_grad(dlogits, params["lm_head"])
    inv_sqrt = 1 / D**0.5
    for li in reversed(range(config.n_layer)):
        r1, xn1, s1, Wqkv, qkv, weights, x_attn, r2, xn2, s2, h1, act = rec["layers"][li]
        # MLP block: x = fc2(relu(fc1(rmsnorm(r2)))) + r2
        fc1, fc2 = params[f"layer{li}.mlp_fc1"], params[f"layer{li}.mlp_fc2"]
        grads[f"layer{li}.mlp_fc2"] = weight_grad(dx, act, groups)
        dact = input_grad(dx, fc2)
        dh1 = [[g if v > 0 else 0.0 for g, v in zip(grow, hrow)] for grow, hrow in zip(dact, h1)]
        grads[f"layer{li}.mlp_fc1"] = weight_grad(dh1, xn2, groups)
        dr2 = add_rows(dx, rmsnorm_back(input_grad(dh1, fc1), r2, s2))
        # attention block: r2 = Wo attn(q, k, v) + r1, one document at a time
        grads[f"layer{li}.attn_wo"] = weight_grad(dr2, x_attn, groups)
        dattn = input_grad(dr2, params[f"layer{li}.attn_wo"])
        dqkv = []
        for (a, b), w in zip(spans, weights):
            dqkv += attend_back(qkv[a:b], dattn[a:b], w, H, D, inv_sqrt)
        gqkv = weight_grad(dqkv, xn1, groups)
        grads[f"layer{li}.attn_wq"] = gqkv[:E]
        grads[f"layer{li}.attn_wk"] = gqkv[E : 2 * E]
        grads[f"layer{li}.attn_wv"] = gqkv[2 * E :]
        dx = add_rows(dr2, rmsnorm_back(input_grad(dqkv, Wqkv), r1, s1))

    demb = rmsnorm_back(dx, rec["emb"], rec["s0"])
    wte_grad = [[0.0] * E for _ in params["wte"]]
    wpe_grad = [None] * len(params["wpe"])
    for tokens, (a, b) in zip(rec["docs"], spans):
        for p, (tok, g) in enumerate(zip(tokens, demb[a:b])):
            wte_grad[tok] = list(map(add, wte_grad[tok], g))
            wpe_grad[p] = g if wpe_grad[p] is None else list(map(add, wpe_grad[p], g))
    grads["wte"] = wte_grad
    grads["wpe"] = [[0.0] * E if g is None else g for g in wpe_grad]
    return loss, grads


class BatchGradients:
    """The loss and gradients of a batch of `batch` documents, computed a chunk of
    documents at a time (`add`), so that each chunk can be its own short task: each
    chunk's share of the batch's mean (batch_loss_and_grads with `batch`) is added to
    the others'. One chunk of the whole batch is batch_loss_and_grads, bit for bit;
    several, the same up to rounding (the sums are taken in another order)."""

    def __init__(self, params, config, batch):
        self.params, self.config, self.batch = params, config, batch
        self.loss = self.grads = None

    def add(self, docs):
        loss, grads = batch_loss_and_grads(self.params, self.config, docs, self.batch)
        if self.grads is None:
            self.loss, self.grads = loss, grads
            return
        self.loss += loss
        total = self.grads
        for name, matrix in grads.items():
            total[name] = [list(map(add, a, b)) for a, b in zip(total[name], matrix)]

    def result(self):
        """(loss, grads) of the documents added so far."""
        return self.loss, self.grads
