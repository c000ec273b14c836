"""An independent transcription of Karpathy's microgpt.py (the gist the README links),
written from microgpt.py itself, not from tinygpt's code.

It does not import tinygpt. Every number is a `Value`, the GPT sees one token at a
time with a key/value cache, the backward pass is micrograd's recursive topological
sort, and Adam is written with exactly the operations of microgpt.py. Used by
test_reference.py to check both tinygpt engines number for number.
"""

import math
import random
import sys


class Value:
    __slots__ = ("data", "grad", "_children", "_local_grads")

    def __init__(self, data, children=(), local_grads=()):
        self.data = data
        self.grad = 0
        self._children = children
        self._local_grads = local_grads

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1, 1))

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, other):
        return Value(self.data**other, (self,), (other * self.data ** (other - 1),))

    def log(self):
        return Value(math.log(self.data), (self,), (1 / self.data,))

    def exp(self):
        return Value(math.exp(self.data), (self,), (math.exp(self.data),))

    def relu(self):
        return Value(max(0, self.data), (self,), (float(self.data > 0),))

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other**-1

    def __rtruediv__(self, other):
        return other * self**-1

    def backward(self):
        topo = []
        visited = set()

        def build_topo(v):
            if v not in visited:
                visited.add(v)
                for child in v._children:
                    build_topo(child)
                topo.append(v)

        old = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old, 100_000))
        try:
            build_topo(self)
        finally:
            sys.setrecursionlimit(old)
        self.grad = 1
        for v in reversed(topo):
            for child, local_grad in zip(v._children, v._local_grads):
                child.grad += local_grad * v.grad


def linear(x, w):
    return [sum(wi * xi for wi, xi in zip(wo, x)) for wo in w]


def softmax(logits):
    max_val = max(val.data for val in logits)
    exps = [(val - max_val).exp() for val in logits]
    total = sum(exps)
    return [e / total for e in exps]


def rmsnorm(x):
    ms = sum(xi * xi for xi in x) / len(x)
    scale = (ms + 1e-5) ** -0.5
    return [xi * scale for xi in x]


class MicroGPT:
    """One training run of microgpt.py: docs, tokenizer, parameters, Adam, steps."""

    def __init__(self, text, n_embd=16, n_head=4, n_layer=1, block_size=16, lr=0.01,
                 steps=1000, beta1=0.85, beta2=0.99, eps=1e-8, seed=42):
        self.n_embd, self.n_head = n_embd, n_head
        self.n_layer, self.block_size = n_layer, block_size
        self.head_dim = n_embd // n_head
        self.lr, self.num_steps = lr, steps
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        # the module-level `random` in microgpt.py; a private generator with the same seed
        self.random = random.Random(seed)
        docs = [line.strip() for line in text.strip().split("\n") if line.strip()]
        self.random.shuffle(docs)
        self.docs = docs
        self.uchars = sorted(set("".join(docs)))
        self.BOS = len(self.uchars)
        self.vocab_size = len(self.uchars) + 1

        def matrix(nout, nin, std=0.08):
            return [[Value(self.random.gauss(0, std)) for _ in range(nin)] for _ in range(nout)]

        sd = {
            "wte": matrix(self.vocab_size, n_embd),
            "wpe": matrix(block_size, n_embd),
            "lm_head": matrix(self.vocab_size, n_embd),
        }
        for i in range(n_layer):
            sd[f"layer{i}.attn_wq"] = matrix(n_embd, n_embd)
            sd[f"layer{i}.attn_wk"] = matrix(n_embd, n_embd)
            sd[f"layer{i}.attn_wv"] = matrix(n_embd, n_embd)
            sd[f"layer{i}.attn_wo"] = matrix(n_embd, n_embd)
            sd[f"layer{i}.mlp_fc1"] = matrix(4 * n_embd, n_embd)
            sd[f"layer{i}.mlp_fc2"] = matrix(n_embd, 4 * n_embd)
        self.state_dict = sd
        self.params = [p for mat in sd.values() for row in mat for p in row]
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)
        self.step_count = 0

    def state_floats(self):
        return {k: [[p.data for p in row] for row in mat] for k, mat in self.state_dict.items()}

    def gpt(self, token_id, pos_id, keys, values):
        sd, head_dim = self.state_dict, self.head_dim
        tok_emb = sd["wte"][token_id]
        pos_emb = sd["wpe"][pos_id]
        x = [t + p for t, p in zip(tok_emb, pos_emb)]
        x = rmsnorm(x)
        for li in range(self.n_layer):
            x_residual = x
            x = rmsnorm(x)
            q = linear(x, sd[f"layer{li}.attn_wq"])
            k = linear(x, sd[f"layer{li}.attn_wk"])
            v = linear(x, sd[f"layer{li}.attn_wv"])
            keys[li].append(k)
            values[li].append(v)
            x_attn = []
            for h in range(self.n_head):
                hs = h * head_dim
                q_h = q[hs : hs + head_dim]
                k_h = [ki[hs : hs + head_dim] for ki in keys[li]]
                v_h = [vi[hs : hs + head_dim] for vi in values[li]]
                attn_logits = [
                    sum(q_h[j] * k_h[t][j] for j in range(head_dim)) / head_dim**0.5
                    for t in range(len(k_h))
                ]
                attn_weights = softmax(attn_logits)
                head_out = [
                    sum(attn_weights[t] * v_h[t][j] for t in range(len(v_h)))
                    for j in range(head_dim)
                ]
                x_attn.extend(head_out)
            x = linear(x_attn, sd[f"layer{li}.attn_wo"])
            x = [a + b for a, b in zip(x, x_residual)]
            x_residual = x
            x = rmsnorm(x)
            x = linear(x, sd[f"layer{li}.mlp_fc1"])
            x = [xi.relu() for xi in x]
            x = linear(x, sd[f"layer{li}.mlp_fc2"])
            x = [a + b for a, b in zip(x, x_residual)]
        return linear(x, sd["lm_head"])

    def tokens(self, doc):
        return [self.BOS] + [self.uchars.index(ch) for ch in doc] + [self.BOS]

    def loss(self, tokens):
        n = min(self.block_size, len(tokens) - 1)
        keys, values = [[] for _ in range(self.n_layer)], [[] for _ in range(self.n_layer)]
        losses = []
        for pos_id in range(n):
            token_id, target_id = tokens[pos_id], tokens[pos_id + 1]
            logits = self.gpt(token_id, pos_id, keys, values)
            probs = softmax(logits)
            losses.append(-probs[target_id].log())
        return (1 / n) * sum(losses)

    def step(self):
        step = self.step_count
        doc = self.docs[step % len(self.docs)]
        loss = self.loss(self.tokens(doc))
        loss.backward()
        lr_t = self.lr * (1 - step / self.num_steps)
        b1, b2 = self.beta1, self.beta2
        m, v = self.m, self.v
        for i, p in enumerate(self.params):
            m[i] = b1 * m[i] + (1 - b1) * p.grad
            v[i] = b2 * v[i] + (1 - b2) * p.grad**2
            m_hat = m[i] / (1 - b1 ** (step + 1))
            v_hat = v[i] / (1 - b2 ** (step + 1))
            p.data -= lr_t * m_hat / (v_hat**0.5 + self.eps)
            p.grad = 0
        self.step_count += 1
        return loss.data

    def load_floats(self, params):
        """Set every parameter's data from {name: rows of floats} (e.g. a model file's)."""
        for name, mat in self.state_dict.items():
            for row, values in zip(mat, params[name], strict=True):
                for p, x in zip(row, values, strict=True):
                    p.data = x

    def sample(self, n=20, temperature=0.5):
        """microgpt.py's inference: n names, each from BOS, drawn with the run's own
        `random` (going on from where the shuffle and the weights left it) by
        random.choices at `temperature`, ending at BOS or after block_size tokens."""
        names = []
        for _ in range(n):
            keys, values = [[] for _ in range(self.n_layer)], [[] for _ in range(self.n_layer)]
            token_id, sample = self.BOS, []
            for pos_id in range(self.block_size):
                logits = self.gpt(token_id, pos_id, keys, values)
                probs = softmax([logit / temperature for logit in logits])
                token_id = self.random.choices(
                    range(self.vocab_size), weights=[p.data for p in probs]
                )[0]
                if token_id == self.BOS:
                    break
                sample.append(self.uchars[token_id])
            names.append("".join(sample))
        return names
