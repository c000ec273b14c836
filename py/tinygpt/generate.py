"""Lesson 5 - sampling: a trained model that predicts, generates and explains.

`Model` holds a config, a tokenizer and the parameters. Generating a name starts
from BOS, turns the logits of the next position into probabilities (divided by the
temperature first: below 1 sharpens, above 1 flattens), draws a token, and stops at
BOS or when the block is full. The fast engine does the arithmetic, one position at
a time, reusing the keys and values it has already computed.
"""

import math
import random

from . import fast
from .errors import TinyGPTError
from .kernels import plain_sum

MAX_SAMPLES = 1000


def check_temperature(temperature):
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise TinyGPTError("The temperature must be a number.")
    if not (math.isfinite(temperature) and 0 < temperature <= 100):
        raise TinyGPTError("The temperature must be above 0 (and at most 100); try 0.5.")
    return float(temperature)


class Model:
    def __init__(self, config, tokenizer, params, meta=None):
        self.config, self.tokenizer, self.params = config, tokenizer, params
        self.meta = dict(meta or {})

    # --- loss -----------------------------------------------------------------------
    def document_loss(self, doc):
        """Mean next-token loss of one document, as in training (first block only)."""
        tokens = self.tokenizer.encode(doc)
        n = min(self.config.block_size, len(tokens) - 1)
        probs = fast.softmax_rows(fast.forward(self.params, self.config, tokens[:n]))
        return -plain_sum(math.log(row[t]) for row, t in zip(probs, tokens[1 : n + 1])) / n

    def evaluate_docs(self, docs):
        """Mean over documents of each document's mean loss."""
        if not docs:
            raise TinyGPTError("There are no documents to evaluate on.")
        return plain_sum(self.document_loss(doc) for doc in docs) / len(docs)

    # --- generation -----------------------------------------------------------------
    def _start(self, prefix):
        """A cache fed with BOS and the prefix, and the logits that follow them."""
        if not isinstance(prefix, str):
            raise TinyGPTError("The prefix must be text.")
        ids = self.tokenizer.ids(prefix)
        if len(ids) >= self.config.block_size:
            raise TinyGPTError(
                f"The prefix is too long: this model sees {self.config.block_size} "
                "positions, BOS included."
            )
        cache = fast.Cache(self.config.n_layer)
        logits = fast.forward(self.params, self.config, [self.tokenizer.bos] + ids, cache)
        return cache, ids, logits[-1]

    def probabilities(self, logits, temperature):
        return fast.softmax_rows([logits], temperature)[0]

    def sample(self, n=20, temperature=0.5, prefix="", seed=None, rng=None):
        """`n` generated documents. A seed makes them reproducible."""
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_SAMPLES:
            raise TinyGPTError(f"The number of names must be between 1 and {MAX_SAMPLES}.")
        temperature = check_temperature(temperature)
        if rng is None:
            rng = random.Random(seed)
        tokens = range(self.tokenizer.vocab_size)
        out = []
        for _ in range(n):
            cache, ids, logits = self._start(prefix)
            ids = list(ids)
            while True:
                probs = self.probabilities(logits, temperature)
                token = rng.choices(tokens, weights=probs)[0]
                if token == self.tokenizer.bos:
                    break
                ids.append(token)
                if cache.length >= self.config.block_size:
                    break
                logits = fast.forward(self.params, self.config, [token], cache)[-1]
            out.append(self.tokenizer.decode(ids))
        return out

    def next_token_probs(self, context="", temperature=0.5):
        """[(character, probability)] for the token after BOS + context, most likely first.

        The end mark BOS is reported as the empty string "".
        """
        temperature = check_temperature(temperature)
        _, _, logits = self._start(context)
        probs = self.probabilities(logits, temperature)
        names = self.tokenizer.chars + [""]
        return sorted(zip(names, probs), key=lambda pair: -pair[1])

    def attention(self, text):
        """Attention weights [layer][head][query][key] for BOS + text (first block)."""
        tokens = ([self.tokenizer.bos] + self.tokenizer.ids(text))[: self.config.block_size]
        record = {}
        fast.forward(self.params, self.config, tokens, record=record)
        return [layer[0] for layer in record["attention"]]
