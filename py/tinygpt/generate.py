"""Lesson 5 - sampling: a trained model that predicts, generates and explains.

`Model` holds a config, a tokenizer and the parameters. Generating a name starts
from BOS, turns the logits of the next position into probabilities (divided by the
temperature first: below 1 sharpens, above 1 flattens), draws a token, and stops at
BOS or when the block is full. The fast engine does the arithmetic, one position at
a time, reusing the keys and values it has already computed.
"""

import math
import random
from collections import deque

from . import fast
from .errors import OVERFLOW, TinyGPTError
from .kernels import plain_sum
from .settings import check, check_generate


def check_temperature(temperature):
    return check("temperature", temperature)


class Model:
    def __init__(self, config, tokenizer, params, meta=None):
        self.config, self.tokenizer, self.params = config, tokenizer, params
        self.meta = dict(meta or {})

    # --- loss -----------------------------------------------------------------------
    def document_loss(self, doc):
        """Mean next-token loss of one document, as in training (first block only). A
        model whose arithmetic overflows (weights no training makes) raises TinyGPTError."""
        tokens = self.tokenizer.encode(doc)
        n = min(self.config.block_size, len(tokens) - 1)
        probs = fast.softmax_rows(fast.forward(self.params, self.config, tokens[:n]))
        try:  # a probability of exactly 0 (log fails) only comes of overflowing logits
            loss = -plain_sum(math.log(row[t]) for row, t in zip(probs, tokens[1 : n + 1])) / n
        except ValueError:
            loss = math.nan
        if not math.isfinite(loss):
            raise TinyGPTError(OVERFLOW)
        return loss

    def evaluate_docs(self, docs):
        """Mean over documents of each document's mean loss."""
        if not docs:
            raise TinyGPTError("There are no documents to evaluate on.")
        return plain_sum(self.document_loss(doc) for doc in docs) / len(docs)

    # --- generation -----------------------------------------------------------------
    def _prefix_ids(self, prefix):
        """The prefix's token ids, or a TinyGPTError saying why the model cannot take it."""
        if not isinstance(prefix, str):
            raise TinyGPTError("The prefix must be text.")
        ids = self.tokenizer.ids(prefix)
        if len(ids) >= self.config.block_size:
            raise TinyGPTError(
                f"The prefix is too long: this model sees {self.config.block_size} "
                "positions, BOS included."
            )
        return ids

    def _start(self, prefix):
        """A cache fed with BOS and the prefix, and the logits that follow them."""
        ids = self._prefix_ids(prefix)
        cache = fast.Cache(self.config.n_layer)
        logits = fast.forward(self.params, self.config, [self.tokenizer.bos] + ids, cache)
        return cache, ids, logits[-1]

    def forward_one(self, token, cache):
        """The logits after one more token, with `cache` holding the keys and values of the
        tokens before it (and gaining this one's)."""
        return fast.forward(self.params, self.config, [token], cache)[-1]

    def probabilities(self, logits, temperature):
        """softmax(logits / temperature); TinyGPTError if the model's numbers overflow
        (infinite logits make NaNs, which no draw and no JSON answer can take)."""
        probs = fast.softmax_rows([logits], temperature)[0]
        if not math.isfinite(sum(probs)):
            raise TinyGPTError(OVERFLOW)
        return probs

    # --- where a name ends (one rule for the CLI, the playground and the lessons) -------
    @property
    def max_name_length(self):
        """The most letters a generated name can have: block_size.

        Positions 0 .. block_size-1 hold BOS and the first block_size-1 letters; the last
        of them predicts letter number block_size, which is never fed back in.
        """
        return self.config.block_size

    def ends_name(self, token, length):
        """Whether a name ends after drawing `token`, the name having `length` letters with
        it: at the end mark (BOS), or when the name is as long as the block allows."""
        return token == self.tokenizer.bos or length >= self.max_name_length

    def sample(self, n=20, temperature=0.5, prefix="", seed=None, rng=None):
        """`n` generated documents. A seed makes them reproducible."""
        return deque(self.sample_steps(n, temperature, prefix, seed, rng), maxlen=1)[0]

    def sample_steps(self, n=20, temperature=0.5, prefix="", seed=None, rng=None):
        """`sample`, one letter at a time: yields None after each letter (so a caller can
        pause between them, as the page does to keep every task short), and finally the
        list of names."""
        n, temperature, prefix, seed = check_generate(n, temperature, prefix, seed)
        start = self._prefix_ids(prefix)  # a bad prefix is refused before the first name
        if rng is None:
            rng = random.Random(seed)
        tokens = range(self.tokenizer.vocab_size)
        out = []
        yield None  # the checks alone: a big model's forward passes come in later pieces
        # BOS and the prefix, once for every name and a position per piece: a 255-letter
        # prefix in one forward pass made one task of seconds with a big model. Position by
        # position with the cache gives the very numbers of one pass over them all.
        prefix_cache = fast.Cache(self.config.n_layer)
        for token in [self.tokenizer.bos] + start:
            prefix_logits = self.forward_one(token, prefix_cache)
            yield None
        for _ in range(n):
            cache, ids, logits = prefix_cache.copy(), list(start), prefix_logits
            while True:
                probs = self.probabilities(logits, temperature)
                token = rng.choices(tokens, weights=probs)[0]
                if token != self.tokenizer.bos:
                    ids.append(token)
                if self.ends_name(token, len(ids)):
                    break
                logits = self.forward_one(token, cache)
                yield None
            out.append(self.tokenizer.decode(ids))
            yield None
        yield out

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


class Letters:
    """One name, a letter at a time (the page's "Next letter"): the model's probabilities
    for the next letter, then the letter drawn, fed back in with the keys and values of
    the letters before it kept (one position of work per letter, not the whole name
    again). It draws what Model.sample draws with the same random stream and ends where
    it ends."""

    def __init__(self, model, seed=None):
        seed = check("sample_seed", seed)
        self.model = model
        self.cache, ids, self.logits = model._start("")
        self.ids = list(ids)
        self.rng = random.Random(seed)
        self.done = False

    def next(self, temperature=0.5):
        """Draw the next letter and feed it in; returns view() with the letter chosen."""
        temperature = check_temperature(temperature)
        if self.done:
            return self.view(temperature)
        model, tokenizer = self.model, self.model.tokenizer
        probs = model.probabilities(self.logits, temperature)
        token = self.rng.choices(range(tokenizer.vocab_size), weights=probs)[0]
        if token != tokenizer.bos:
            self.ids.append(token)
        chosen = {"ch": "" if token == tokenizer.bos else tokenizer.chars[token],
                  "p": probs[token]}
        if model.ends_name(token, len(self.ids)):
            self.done = True
        else:
            self.logits = model.forward_one(token, self.cache)
        return self.view(temperature, chosen)

    def view(self, temperature=0.5, chosen=None):
        """{text, done, chosen, probs}: the name so far, whether it has ended, the letter
        just drawn ({ch, p}, "" for the end) and the next letter's [[char, p]], most
        likely first (none once the name has ended)."""
        temperature = check_temperature(temperature)
        tokenizer = self.model.tokenizer
        names = tokenizer.chars + [""]
        probs = [] if self.done else self.model.probabilities(self.logits, temperature)
        return {
            "text": tokenizer.decode(self.ids),
            "done": self.done,
            "chosen": chosen,
            "probs": sorted(([names[i], p] for i, p in enumerate(probs)), key=lambda x: -x[1]),
        }
