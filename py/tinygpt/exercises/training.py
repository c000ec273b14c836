"""Lesson 4's exercises: the loss of one name, and one Adam update."""

import math

from ..model import softmax as package_softmax
from ..optim import Adam
from ..value import Value
from . import values as V
from .base import Exercise, Mistake, Wrong, returned
from .compare import show, show_pair

# --- the loss of one name -------------------------------------------------------------------

LOSS_SOLUTION = '''\
from tinygpt.model import softmax  # lesson 2's (in lesson 6: yours)


def name_loss(logits, targets):
    """The loss of one name: the mean over its positions of -log(the probability the
    model gave to the token that really came next).

    logits: one list of Values per position (a score for every token); targets: the id
    of the token that came next, at each position. Returns a Value.
    """
    losses = []
    for row, target in zip(logits, targets):
        probs = softmax(row)
        losses.append(-probs[target].log())
    n = len(targets)
    return (1 / n) * sum(losses)
'''


def _loss_with(old, new):
    assert old in LOSS_SOLUTION, old
    return LOSS_SOLUTION.replace(old, new)


def mean_loss(logits, targets, softmax=package_softmax):
    """The package's loss of one name (model.document_loss, once its logits are made)."""
    losses = []
    for row, target_id in zip(logits, targets):
        probs = softmax(row)
        losses.append(-probs[target_id].log())
    n = len(targets)
    return (1 / n) * sum(losses)


def loss_result(function, case, check=False):
    rows = V.leaf_rows(case["logits"])
    loss = function(rows, list(case["targets"]))
    if check:
        returned(loss, "name_loss")
    if check and not isinstance(loss, Value):
        raise Wrong(f"name_loss should return a Value (so that backward() can follow it), "
                    f"not {show(loss)}.")
    loss.backward()
    return {"loss": V.number(loss.data, "the loss's .data"),
            "grads": [V.grads(row, "logits") for row in rows]}


def loss_reference(case):
    return loss_result(mean_loss, case)


def loss_run(namespace, case):
    return loss_result(namespace["name_loss"], case, check=True)


def loss_random_case(rng, size):
    n, vocab = size
    return {"logits": [V.rounded(rng, -3, 3, vocab) for _ in range(n)],
            "targets": [rng.randrange(vocab) for _ in range(n)]}


def loss_show(case):
    return f"logits = {show(case['logits'])}, targets = {show(case['targets'])}"


def loss_explain(case, difference, expected, actual):
    where = f"name_loss(logits, targets) with {loss_show(case)}"
    e, a = show_pair(difference.expected, difference.actual)
    if difference.key == "loss":
        return f"{where} should be {e}; yours is {a}."
    t, i = difference.path[1], difference.path[2]
    return (f"{where} gives the right loss but not the right gradients: after backward(), "
            f"logits[{t}][{i}].grad should be {e}; yours is {a}.")


THREE_POSITIONS = {
    "logits": [[1.0, 2.0, 0.5, -1.0], [0.0, 0.0, 3.0, 1.0], [2.0, -2.0, 1.0, 0.5]],
    "targets": [1, 2, 0],
}

LOSS = Exercise(
    id="loss",
    title="The loss of a name",
    lesson="training",
    names=("name_loss",),
    subject="Your name_loss",
    solution=LOSS_SOLUTION,
    fixed=(
        {"logits": [[1.0, 2.0, 3.0]], "targets": [2]},
        {"logits": [[0.0, 0.0, 0.0, 0.0]] * 3, "targets": [0, 1, 2]},
        THREE_POSITIONS,
        {"logits": [[10.0, 0.0, -5.0], [1000.0, 999.0, 998.0]], "targets": [1, 0]},
    ),
    random_case=loss_random_case,
    sizes=((3, 4), (1, 2), (5, 6), (2, 3), (6, 5), (4, 7), (2, 2), (3, 3)),
    run=loss_run,
    reference=loss_reference,
    explain=loss_explain,
    show_case=loss_show,
    checks_gradients=True,
    mistakes=(
        Mistake(
            "summed-not-averaged",
            "Average over the positions (divide the sum by len(targets)): the loss of a "
            "name is the mean per position, so long and short names count alike.",
            _loss_with("return (1 / n) * sum(losses)", "return sum(losses)"),
            THREE_POSITIONS,
        ),
        Mistake(
            "no-minus",
            "The loss is minus the log of the probability: log p is negative or 0, and the "
            "loss must fall as p rises toward 1.",
            _loss_with("losses.append(-probs[target].log())", "losses.append(probs[target].log())"),
            THREE_POSITIONS,
        ),
        Mistake(
            "no-log",
            "Take the log of the probability (probs[target].log()): the cross-entropy is "
            "−log p, which punishes a confident wrong guess far more than −p does.",
            _loss_with("losses.append(-probs[target].log())", "losses.append(-probs[target])"),
            THREE_POSITIONS,
        ),
    ),
)


# --- one Adam update ------------------------------------------------------------------------

ADAM_SOLUTION = '''\
BETA1, BETA2, EPS = 0.85, 0.99, 1e-8  # the package's settings (microgpt.py's)


def adam_update(params, grads, m, v, step, lr):
    """One Adam update of every parameter, in place.

    params, grads, m, v: lists of floats, one entry per parameter (m and v: the running
    means of the gradient and of its square). step: k, counted from 0. lr: this step's
    learning rate. Change params, m and v in place; return nothing.
    """
    for i in range(len(params)):
        m[i] = BETA1 * m[i] + (1 - BETA1) * grads[i]
        v[i] = BETA2 * v[i] + (1 - BETA2) * grads[i] ** 2
        m_hat = m[i] / (1 - BETA1 ** (step + 1))  # the bias correction
        v_hat = v[i] / (1 - BETA2 ** (step + 1))
        params[i] -= lr * m_hat / (v_hat**0.5 + EPS)
'''

BETAS = dict(beta1=0.85, beta2=0.99, eps=1e-8)


def _adam_with(old, new):
    assert old in ADAM_SOLUTION, old
    return ADAM_SOLUTION.replace(old, new)


def package_adam_update(params, grads, m, v, step, lr):
    """optim.Adam.update on flat lists, in place. It computes lr_k = lr * (1 - k / steps)
    itself: with steps infinite that is lr, this step's rate, exactly."""
    adam = Adam(len(params), lr=lr, steps=math.inf, **BETAS)
    adam.m, adam.v = m, v  # the same lists: update changes them in place
    params[:] = adam.update({"p": [params]}, {"p": [grads]}, step)["p"][0]


KEYS = ("params", "grads", "m", "v")


def adam_result(function, case, check=False):
    params, grads, m, v = (list(case[key]) for key in KEYS)
    returned = function(params, grads, m, v, case["step"], case["lr"])
    # What it returned is not compared with the package (a return value is harmless),
    # only with typical mistakes: new lists returned, the old ones left as they were.
    answer = {"_returned": type(returned).__name__} if check else {}
    for key, values in (("params", params), ("m", m), ("v", v)):
        if check and len(values) != len(case["params"]):
            raise Wrong(f"{key} should still hold {len(case['params'])} numbers, not "
                        f"{len(values)}.")
        answer[key] = [V.number(x, f"{key}[{i}]") for i, x in enumerate(values)]
    return answer


def adam_reference(case):
    return adam_result(package_adam_update, case)


def adam_run(namespace, case):
    return adam_result(namespace["adam_update"], case, check=True)


def adam_random_case(rng, size):
    step = rng.choice((0, 1, 2, 5, 10, 40))
    fresh = step == 0
    return {
        "params": V.rounded(rng, -1, 1, size),
        "grads": V.rounded(rng, -1, 1, size),
        "m": [0.0] * size if fresh else V.rounded(rng, -0.5, 0.5, size),
        "v": [0.0] * size if fresh else V.rounded(rng, 0, 0.5, size),
        "step": step,
        "lr": rng.choice((0.01, 0.005, 0.05)),
    }


def adam_show(case):
    lists = ", ".join(f"{key} = {show(case[key])}" for key in KEYS)
    return f"{lists}, step = {case['step']}, lr = {show(case['lr'])}"


def adam_explain(case, difference, expected, actual):
    e, a = show_pair(difference.expected, difference.actual)
    key, i = difference.key, difference.index
    unchanged = all(actual[k] == [float(x) for x in case[k]] for k in ("params", "m", "v"))
    note = (" Your adam_update changed nothing (a body that is still the stub's `...` does "
            "nothing)." if unchanged else "")
    return (f"After adam_update(params, grads, m, v, step, lr) with {adam_show(case)}: "
            f"{key}[{i}] should be {e}; yours is {a}.{note}")


FIRST_STEP = {"params": [0.5, -0.25], "grads": [0.1, -2.0], "m": [0.0, 0.0], "v": [0.0, 0.0],
              "step": 0, "lr": 0.01}

ADAM = Exercise(
    id="adam",
    title="One Adam update",
    lesson="training",
    names=("adam_update",),
    subject="Your adam_update",
    solution=ADAM_SOLUTION,
    fixed=(
        FIRST_STEP,
        {"params": [1.0], "grads": [0.0], "m": [0.0], "v": [0.0], "step": 0, "lr": 0.01},
        {"params": [0.3, -0.7, 0.1], "grads": [0.5, 0.25, -1.0], "m": [0.1, -0.2, 0.05],
         "v": [0.04, 0.01, 0.2], "step": 10, "lr": 0.005},
    ),
    random_case=adam_random_case,
    sizes=(3, 1, 5, 8, 2, 4, 6, 7),
    run=adam_run,
    reference=adam_reference,
    explain=adam_explain,
    show_case=adam_show,
    mistakes=(
        Mistake(
            "no-bias-correction",
            "Divide m by 1 − BETA1 ** (step + 1) and v by 1 − BETA2 ** (step + 1) (the "
            "bias correction): both start at 0, which pulls them toward 0 in the first "
            "steps, and the correction undoes that.",
            _adam_with("m[i] / (1 - BETA1 ** (step + 1))", "m[i]").replace(
                "v[i] / (1 - BETA2 ** (step + 1))", "v[i]"),
            FIRST_STEP,
        ),
        Mistake(
            "step-from-one",
            "step counts from 0, so the correction uses step + 1: at the first step it "
            "divides by 1 − β, not by 1 − β ** 0, which is 0.",
            _adam_with("BETA1 ** (step + 1)", "BETA1 ** step").replace(
                "BETA2 ** (step + 1)", "BETA2 ** step"),
            FIRST_STEP,
        ),
        Mistake(
            "no-square-root",
            "Divide by the square root of v̂ (v_hat ** 0.5): v is a running mean of squared "
            "gradients, and its root has the size of a gradient.",
            _adam_with("(v_hat**0.5 + EPS)", "(v_hat + EPS)"),
            FIRST_STEP,
        ),
        Mistake(
            "not-in-place",
            "Change params, m and v in place (params[i] -= ..., m[i] = ...): the training "
            "loop goes on with the lists it passed in and ignores what adam_update returns.",
            _adam_with("    for i in range(len(params)):",
                       "    params, m, v = list(params), list(m), list(v)\n"
                       "    for i in range(len(params)):") + "    return params\n",
            FIRST_STEP,
        ),
    ),
)
