"""Lesson 3's exercise: one attention head over every position of a name, causal."""

from ..model import softmax as package_softmax
from . import values as V
from .base import Exercise, Mistake, Wrong, returned
from .compare import show, show_pair

SOLUTION = '''\
import math

from tinygpt.model import softmax  # lesson 2's (in lesson 6: yours)


def attention_head(qs, ks, vs):
    """One attention head over the positions of a name.

    qs, ks, vs: the query, key and value of every position, each a list of head_dim
    Values. Position t scores its query against the keys of positions 0 to t only
    (never a later one): q·k / sqrt(head_dim); softmax turns the scores into weights;
    its output is the weighted sum of those positions' values. Returns one output per
    position, a list of head_dim Values each.
    """
    head_dim = len(qs[0])
    outs = []
    for t, q in enumerate(qs):
        k_h, v_h = ks[: t + 1], vs[: t + 1]  # this position and the earlier ones
        attn_logits = [
            sum(q[j] * k_h[s][j] for j in range(head_dim)) / head_dim**0.5
            for s in range(len(k_h))
        ]
        attn_weights = softmax(attn_logits)
        outs.append(
            [sum(attn_weights[s] * v_h[s][j] for s in range(len(v_h))) for j in range(head_dim)]
        )
    return outs
'''


def _with(old, new):
    assert old in SOLUTION, old
    return SOLUTION.replace(old, new)


def causal_head(qs, ks, vs, softmax=package_softmax):
    """The package's attention head (model.gpt, one position at a time: its cache holds
    the keys and values of this position and the earlier ones), over every position."""
    outs = []
    for t, q_h in enumerate(qs):
        head_dim = len(q_h)
        k_h, v_h = ks[: t + 1], vs[: t + 1]
        attn_logits = [
            sum(q_h[j] * k_h[s][j] for j in range(head_dim)) / head_dim**0.5
            for s in range(len(k_h))
        ]
        attn_weights = softmax(attn_logits)
        outs.append(
            [sum(attn_weights[s] * v_h[s][j] for s in range(len(v_h))) for j in range(head_dim)]
        )
    return outs


NAMES = ("qs", "ks", "vs")


def result(function, case, check=False):
    inputs = [V.leaf_rows(case[name]) for name in NAMES]
    outs = function(*inputs)
    T, D = len(case["qs"]), len(case["qs"][0])
    if check:
        returned(outs, "attention_head")
        if type(outs) not in (list, tuple) or len(outs) != T:
            raise Wrong(f"attention_head should return {T} outputs (one per position), "
                        f"not {show(outs)}.")
        outs = [V.need_values(row, D, f"the output of position {t}") for t, row in
                enumerate(outs)]
    flat = [x for row in outs for x in row]
    V.weighted_sum(flat, [w for row in case["weights"] for w in row]).backward()
    answer = {"out": [V.data(row, "out") for row in outs]}
    for name, rows in zip(NAMES, inputs):
        answer[name] = [V.grads(row, name) for row in rows]
    return answer


def reference(case):
    return result(causal_head, case)


def run(namespace, case):
    return result(namespace["attention_head"], case, check=True)


def random_case(rng, size):
    T, D = size
    rows = lambda: [V.rounded(rng, -2, 2, D) for _ in range(T)]  # noqa: E731
    return {"qs": rows(), "ks": rows(), "vs": rows(), "weights": rows()}


def show_case(case):
    return ", ".join(f"{name} = {show(case[name])}" for name in NAMES)


def explain(case, difference, expected, actual):
    where = f"With {show_case(case)}"
    t = difference.index
    if difference.key == "out":
        e, a = show_pair(expected["out"][t], actual["out"][t])
        return f"{where}: the output of position {t} should be {e}; yours is {a}."
    e, a = show_pair(difference.expected, difference.actual)
    j = difference.path[2]
    return (f"{where}: the outputs are right, but after backward() of L = the sum of "
            f"w[t][j]·out[t][j] with w = {show(case['weights'])}, {difference.key}[{t}][{j}]"
            f".grad should be {e}; yours is {a}.")


EXERCISE = Exercise(
    id="attention-head",
    title="One attention head",
    lesson="attention",
    names=("attention_head",),
    subject="Your attention_head",
    solution=SOLUTION,
    fixed=(
        {"qs": [[1.0, 0.0]], "ks": [[0.5, 0.5]], "vs": [[3.0, -1.0]], "weights": [[1.0, 1.0]]},
        {
            "qs": [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]],
            "ks": [[1.0, 0.0], [0.0, 1.0], [2.0, 0.0]],
            "vs": [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]],
            "weights": [[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]],
        },
        {
            "qs": [[0.5, -1.0, 2.0, 0.25], [1.0, 1.0, -0.5, 0.0]],
            "ks": [[1.5, 0.0, -1.0, 0.5], [-0.5, 2.0, 1.0, 1.0]],
            "vs": [[0.1, 0.2, 0.3, 0.4], [-1.0, 0.0, 1.0, 2.0]],
            "weights": [[1.0, -1.0, 0.5, 2.0], [0.25, 1.0, -2.0, 1.0]],
        },
    ),
    random_case=random_case,
    sizes=((3, 2), (1, 1), (4, 2), (2, 3), (5, 2), (3, 4), (4, 1), (2, 2)),
    run=run,
    reference=reference,
    explain=explain,
    show_case=show_case,
    checks_gradients=True,
    mistakes=(
        Mistake(
            "looks-ahead",
            "Position t may look only at positions 0 to t (ks[:t + 1] and vs[:t + 1]): that "
            "is the causal mask. A later position holds a letter the model has to predict, "
            "so it must not see it.",
            _with("k_h, v_h = ks[: t + 1], vs[: t + 1]", "k_h, v_h = ks, vs"),
            {
                "qs": [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]],
                "ks": [[1.0, 0.0], [0.0, 1.0], [2.0, 0.0]],
                "vs": [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]],
                "weights": [[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]],
            },
        ),
        Mistake(
            "no-scaling",
            "Divide each score q·k by √head_dim (head_dim ** 0.5), as lesson 3 does: it "
            "keeps the scores on one scale whatever the size of the head.",
            _with(" / head_dim**0.5\n", "\n"),
            {
                "qs": [[0.5, -1.0, 2.0, 0.25], [1.0, 1.0, -0.5, 0.0]],
                "ks": [[1.5, 0.0, -1.0, 0.5], [-0.5, 2.0, 1.0, 1.0]],
                "vs": [[0.1, 0.2, 0.3, 0.4], [-1.0, 0.0, 1.0, 2.0]],
                "weights": [[1.0, -1.0, 0.5, 2.0], [0.25, 1.0, -2.0, 1.0]],
            },
        ),
    ),
)
