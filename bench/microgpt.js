// A plain JavaScript port of Karpathy's microgpt.py: the yardstick of the benchmark.
//
// This is the design the vanilla-JS microgpt ports use: every number is a scalar
// `Value` that records its children and the local derivative with respect to each;
// `backward()` sorts the graph topologically (recursively, as microgpt.py does) and
// applies the chain rule. The GPT, the loss and Adam follow microgpt.py operation for
// operation (as tests/py/microgpt_reference.py transcribes it), written the
// straightforward way: no tricks to slow it down, no hand optimisation beyond what such
// a port does.
//
// JavaScript's Math.random is not Python's `random`, so the port takes its initial
// parameters and its (already shuffled) documents as input: given the same ones it
// computes the same losses as the Python engines, which is what makes the speed
// comparison fair (tests/e2e/test_bench_port.py checks it).

export class Value {
  constructor(data, children = [], localGrads = []) {
    this.data = data;
    this.grad = 0;
    this._children = children;
    this._localGrads = localGrads;
  }

  add(other) {
    other = other instanceof Value ? other : new Value(other);
    return new Value(this.data + other.data, [this, other], [1, 1]);
  }

  mul(other) {
    other = other instanceof Value ? other : new Value(other);
    return new Value(this.data * other.data, [this, other], [other.data, this.data]);
  }

  pow(other) {
    return new Value(this.data ** other, [this], [other * this.data ** (other - 1)]);
  }

  log() {
    return new Value(Math.log(this.data), [this], [1 / this.data]);
  }

  exp() {
    return new Value(Math.exp(this.data), [this], [Math.exp(this.data)]);
  }

  relu() {
    return new Value(Math.max(0, this.data), [this], [this.data > 0 ? 1 : 0]);
  }

  neg() {
    return this.mul(-1);
  }

  sub(other) {
    return this.add(other instanceof Value ? other.neg() : -other);
  }

  div(other) {
    return this.mul(other instanceof Value ? other.pow(-1) : other ** -1);
  }

  backward() {
    const topo = [];
    const visited = new Set();
    const buildTopo = (v) => {
      if (!visited.has(v)) {
        visited.add(v);
        for (const child of v._children) buildTopo(child);
        topo.push(v);
      }
    };
    buildTopo(this);
    this.grad = 1;
    for (let i = topo.length - 1; i >= 0; i--) {
      const v = topo[i];
      for (let j = 0; j < v._children.length; j++) v._children[j].grad += v._localGrads[j] * v.grad;
    }
  }
}

// Python's sum(): starts from 0 and adds left to right (0 + Value is a Value).
function sum(values) {
  let total = 0;
  for (const v of values) total = total === 0 ? v.add(0) : total.add(v);
  return total;
}

function linear(x, w) {
  return w.map((wo) => sum(wo.map((wi, i) => wi.mul(x[i]))));
}

function softmax(logits) {
  const maxVal = Math.max(...logits.map((val) => val.data));
  const exps = logits.map((val) => val.sub(maxVal).exp());
  const total = sum(exps);
  return exps.map((e) => e.div(total));
}

function rmsnorm(x) {
  const ms = sum(x.map((xi) => xi.mul(xi))).div(x.length);
  const scale = ms.add(1e-5).pow(-0.5);
  return x.map((xi) => xi.mul(scale));
}

/**
 * A microgpt.py training run.
 * @param {object} options
 * @param {Object<string, number[][]>} options.params initial state dict (wte, wpe, lm_head,
 *   layer{i}.attn_wq/wk/wv/wo, layer{i}.mlp_fc1/fc2), in initialisation order
 * @param {string[]} options.docs the documents in training order (shuffled already)
 * @returns {{step: () => number, stepCount: number, vocabSize: number, nParams: number}}
 */
export function createRun({
  params, docs, nEmbd = 16, nHead = 4, nLayer = 1, blockSize = 16,
  lr = 0.01, steps = 1000, beta1 = 0.85, beta2 = 0.99, eps = 1e-8,
}) {
  const headDim = nEmbd / nHead;
  // Python's sorted() orders by code point; so does this (no locale, no UTF-16 surprises).
  const uchars = [...new Set([...docs.join("")])].sort((a, b) => a.codePointAt(0) - b.codePointAt(0));
  const BOS = uchars.length;
  const stateDict = {};
  for (const [name, matrix] of Object.entries(params)) {
    stateDict[name] = matrix.map((row) => row.map((w) => new Value(w)));
  }
  const flat = Object.values(stateDict).flatMap((mat) => mat.flat());
  const m = new Array(flat.length).fill(0);
  const v = new Array(flat.length).fill(0);

  function gpt(tokenId, posId, keys, values) {
    const tokEmb = stateDict.wte[tokenId];
    const posEmb = stateDict.wpe[posId];
    let x = tokEmb.map((t, i) => t.add(posEmb[i]));
    x = rmsnorm(x);
    for (let li = 0; li < nLayer; li++) {
      let xResidual = x;
      x = rmsnorm(x);
      const q = linear(x, stateDict[`layer${li}.attn_wq`]);
      const k = linear(x, stateDict[`layer${li}.attn_wk`]);
      const val = linear(x, stateDict[`layer${li}.attn_wv`]);
      keys[li].push(k);
      values[li].push(val);
      const xAttn = [];
      for (let h = 0; h < nHead; h++) {
        const hs = h * headDim;
        const qH = q.slice(hs, hs + headDim);
        const kH = keys[li].map((ki) => ki.slice(hs, hs + headDim));
        const vH = values[li].map((vi) => vi.slice(hs, hs + headDim));
        const attnLogits = kH.map((kt) => sum(qH.map((qj, j) => qj.mul(kt[j]))).div(headDim ** 0.5));
        const attnWeights = softmax(attnLogits);
        for (let j = 0; j < headDim; j++) xAttn.push(sum(vH.map((vt, t) => attnWeights[t].mul(vt[j]))));
      }
      x = linear(xAttn, stateDict[`layer${li}.attn_wo`]);
      x = x.map((a, i) => a.add(xResidual[i]));
      xResidual = x;
      x = rmsnorm(x);
      x = linear(x, stateDict[`layer${li}.mlp_fc1`]);
      x = x.map((xi) => xi.relu());
      x = linear(x, stateDict[`layer${li}.mlp_fc2`]);
      x = x.map((a, i) => a.add(xResidual[i]));
    }
    return linear(x, stateDict.lm_head);
  }

  const run = {
    stepCount: 0,
    vocabSize: uchars.length + 1,
    nParams: flat.length,
    /** One training step on the next document; returns its loss (before the update). */
    step() {
      const step = run.stepCount;
      const doc = docs[step % docs.length];
      const tokens = [BOS, ...[...doc].map((ch) => uchars.indexOf(ch)), BOS];
      const n = Math.min(blockSize, tokens.length - 1);
      const keys = Array.from({ length: nLayer }, () => []);
      const values = Array.from({ length: nLayer }, () => []);
      const losses = [];
      for (let posId = 0; posId < n; posId++) {
        const logits = gpt(tokens[posId], posId, keys, values);
        const probs = softmax(logits);
        losses.push(probs[tokens[posId + 1]].log().neg());
      }
      const loss = sum(losses).mul(1 / n);
      loss.backward();

      const lrT = lr * (1 - step / steps);
      for (let i = 0; i < flat.length; i++) {
        const p = flat[i];
        m[i] = beta1 * m[i] + (1 - beta1) * p.grad;
        v[i] = beta2 * v[i] + (1 - beta2) * p.grad ** 2;
        const mHat = m[i] / (1 - beta1 ** (step + 1));
        const vHat = v[i] / (1 - beta2 ** (step + 1));
        p.data -= (lrT * mHat) / (vHat ** 0.5 + eps);
        p.grad = 0;
      }
      run.stepCount = step + 1;
      return loss.data;
    },
  };
  return run;
}
