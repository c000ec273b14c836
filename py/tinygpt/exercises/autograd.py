"""Lesson 2's exercises: the backward rules of a small Value class, and a stable softmax."""

import math

from ..model import softmax as package_softmax
from ..value import Value
from . import values as V
from .base import Exercise, Mistake, Wrong, returned
from .compare import show, show_pair

# --- backward: `*`, `exp` and the chain rule of a Value class ------------------------------

BACKWARD_SOLUTION = '''\
import math

from tinygpt.value import Value as PackageValue


class Value:
    """A number that remembers how it was made: lesson 2's Value, to finish."""

    def __init__(self, data, children=(), local_grads=()):
        self.data = data
        self.grad = 0
        self._children = children  # the Values this one was made from
        self._local_grads = local_grads  # d(this) / d(child), one per child

    def __add__(self, other):  # done: both local derivatives are 1
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1, 1))

    def __mul__(self, other):
        """self * other, with its two children and their local derivatives."""
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    def exp(self):
        """e ** self, with its child and the local derivative."""
        return Value(math.exp(self.data), (self,), (math.exp(self.data),))

    def backward(self):
        """Fill .grad of every node with d(self) / d(node): the chain rule."""
        self.grad = 1
        for v in reversed(self.topological_order()):  # a node before its children
            for child, local_grad in zip(v._children, v._local_grads):
                child.grad += local_grad * v.grad

    # Done: the other operations the GPT needs, made like the ones above or of them.
    def __pow__(self, n):
        return Value(self.data**n, (self,), (n * self.data ** (n - 1),))

    def log(self):
        return Value(math.log(self.data), (self,), (1 / self.data,))

    def relu(self):
        return Value(max(0, self.data), (self,), (float(self.data > 0),))

    def __neg__(self): return self * -1
    def __radd__(self, other): return self + other
    def __sub__(self, other): return self + (-other)
    def __rsub__(self, other): return other + (-self)
    def __rmul__(self, other): return self * other
    def __truediv__(self, other): return self * other**-1
    def __rtruediv__(self, other): return other * self**-1

    topological_order = PackageValue.topological_order  # the package's graph walk
'''


def _backward_with(old, new):
    assert old in BACKWARD_SOLUTION, old
    return BACKWARD_SOLUTION.replace(old, new)


LEAF_NAMES = "abcd"
NODE_NAMES = "fghkmpqrsuw"  # no e (Euler's), i, j, l, n, o, t, v (easily misread)
OP_TEXT = {"mul": "{x} * {y}", "add": "{x} + {y}", "scale": "{x} * {c}", "exp": "{x}.exp()"}


def _names(case):
    names = list(LEAF_NAMES[: len(case["leaves"])])
    names += [NODE_NAMES[i] for i in range(len(case["ops"]) - 1)] + ["out"]
    return names


def _op_text(op, names):
    kind = op[0]
    return OP_TEXT[kind].format(
        x=names[op[1]],
        y=names[op[2]] if kind in ("mul", "add") else "",
        c=show(op[2]) if kind == "scale" else "",
    )


def expression(case):
    """The case as Python the learner can paste: 'a = Value(2.0); b = ...; out = a * b'."""
    names = _names(case)
    lines = [f"{n} = Value({show(x)})" for n, x in zip(names, case["leaves"])]
    lines += [f"{names[len(case['leaves']) + i]} = {_op_text(op, names)}"
              for i, op in enumerate(case["ops"])]
    return "; ".join(lines)


def build(cls, case, check=False):
    """Every node of the case's expression, made with the Value class `cls`."""
    nodes = [cls(float(x)) for x in case["leaves"]]
    names = _names(case)
    for op in case["ops"]:
        kind, x = op[0], nodes[op[1]]
        if kind == "mul":
            made = x * nodes[op[2]]
        elif kind == "add":
            made = x + nodes[op[2]]
        elif kind == "scale":
            made = x * op[2]
        else:
            made = x.exp()
        if check:
            returned(made, f"`{_op_text(op, names)}`")
        if check and not isinstance(made, cls):
            raise Wrong(
                f"`{_op_text(op, names)}` gave {show(made)}, not a Value: the operation must "
                "return a Value made with its children and their local derivatives."
            )
        nodes.append(made)
    return nodes


def _float_value(case, leaves):
    """The expression on plain floats (for the numeric gradient)."""
    nodes = list(leaves)
    for op in case["ops"]:
        kind, x = op[0], nodes[op[1]]
        nodes.append(x * nodes[op[2]] if kind == "mul" else x + nodes[op[2]] if kind == "add"
                     else x * op[2] if kind == "scale" else math.exp(x))
    return nodes[-1]


def _backward_result(nodes, n_leaves, what):
    return {
        "data": [V.number(node.data, f"{what}.data") for node in nodes],
        "grads": [V.number(node.grad, f"{what}.grad") for node in nodes[:n_leaves]],
    }


def backward_reference(case):
    nodes = build(Value, case)
    nodes[-1].backward()
    return _backward_result(nodes, len(case["leaves"]), "node")


def backward_run(namespace, case):
    cls = namespace["Value"]
    if not isinstance(cls, type):
        raise Wrong("`Value` must be a class.")
    nodes = build(cls, case, check=True)
    nodes[-1].backward()
    return _backward_result(nodes, len(case["leaves"]), "a node's")


def backward_random_case(rng, size):
    """An expression of `size` operations on 2 or 3 leaves, nodes often used twice."""
    while True:
        n_leaves = rng.choice((2, 3))
        case = {"leaves": V.rounded(rng, -1.5, 1.5, n_leaves), "ops": []}
        for _ in range(size):
            count = n_leaves + len(case["ops"])
            x = count - 1 if rng.random() < 0.6 else rng.randrange(count)
            kind = rng.choices(("mul", "add", "exp", "scale"), weights=(4, 2.5, 1.5, 2))[0]
            if kind in ("mul", "add"):
                case["ops"].append([kind, x, rng.randrange(count)])
            elif kind == "scale":
                case["ops"].append([kind, x, rng.choice((2.0, -1.0, 0.5, 3.0))])
            else:
                case["ops"].append([kind, x])
        try:
            if all(abs(d) < 1e4 for d in backward_reference(case)["data"]):
                return case
        except OverflowError:
            pass


def backward_explain(case, difference, expected, actual):
    names = _names(case)
    where = f"With {expression(case)}"
    e, a = show_pair(difference.expected, difference.actual)
    i = difference.index
    if difference.key == "data":
        return f"{where}: {names[i]}.data should be {e}; yours is {a}."
    numeric = V.numeric_gradient(lambda xs: _float_value(case, xs), case["leaves"], i)
    x = names[i]
    return (f"{where}, after out.backward(): {x}.grad should be {e} (the numeric estimate "
            f"(out({x} + h) − out({x} − h)) / 2h gives {show(numeric)}); yours is {a}.")


BACKWARD = Exercise(
    id="backward",
    title="Backward rules",
    lesson="autograd",
    names=("Value",),
    subject="Your Value class",
    solution=BACKWARD_SOLUTION,
    fixed=(
        {"leaves": [2.0, -3.0], "ops": [["mul", 0, 1]]},
        {"leaves": [0.5], "ops": [["exp", 0]]},
        {"leaves": [2.0, -3.0], "ops": [["mul", 0, 1], ["add", 2, 0]]},
        {"leaves": [0.5, -1.0], "ops": [["mul", 0, 1], ["exp", 2]]},
        {"leaves": [3.0], "ops": [["mul", 0, 0]]},
        {"leaves": [0.25, 1.5], "ops": [["scale", 0, 2.0], ["add", 2, 1], ["exp", 3],
                                        ["mul", 4, 0]]},
    ),
    random_case=backward_random_case,
    sizes=(3, 5, 2, 7, 4, 6, 3, 7),
    run=backward_run,
    reference=backward_reference,
    explain=backward_explain,
    show_case=expression,
    checks_gradients=True,
    mistakes=(
        Mistake(
            "assign-instead-of-add",
            "A value used more than once collects a contribution from every use: add to "
            "child.grad (+=) instead of overwriting it (=).",
            _backward_with("child.grad += local_grad * v.grad", "child.grad = local_grad * v.grad"),
            {"leaves": [2.0, -3.0], "ops": [["mul", 0, 1], ["add", 2, 0]]},
        ),
        Mistake(
            "mul-local-grads-swapped",
            "The local derivative of a·b with respect to a is b, and with respect to b it "
            "is a: each factor gets the other one's value.",
            _backward_with("(other.data, self.data))", "(self.data, other.data))"),
            {"leaves": [2.0, -3.0], "ops": [["mul", 0, 1]]},
        ),
        Mistake(
            "exp-local-grad",
            "The derivative of e^x is e^x itself: exp's local derivative is its result, "
            "math.exp(self.data).",
            _backward_with("(self,), (math.exp(self.data),))", "(self,), (self.data,))"),
            {"leaves": [0.5], "ops": [["exp", 0]]},
        ),
        Mistake(
            "chain-rule-missing",
            "The chain rule multiplies: a child gains local_grad × v.grad, the local "
            "derivative times the gradient of the node that uses it.",
            _backward_with("child.grad += local_grad * v.grad", "child.grad += local_grad"),
            {"leaves": [0.5, -1.0], "ops": [["mul", 0, 1], ["exp", 2]]},
        ),
    ),
)


# --- softmax on Values, stable for large scores ---------------------------------------------

SOFTMAX_SOLUTION = '''\
from tinygpt.value import Value  # the package's, as in the cells above


def softmax(logits):
    """Probabilities from a list of Values: exp(x_i) / sum over j of exp(x_j), made of
    Value operations so that backward() reaches the logits. Stable: a score of 1000
    must not overflow."""
    max_val = max(val.data for val in logits)  # a number: it changes no probability
    exps = [(val - max_val).exp() for val in logits]
    total = sum(exps)
    return [e / total for e in exps]
'''


def _softmax_with(old, new):
    assert old in SOFTMAX_SOLUTION, old
    return SOFTMAX_SOLUTION.replace(old, new)


def softmax_result(function, case, check=False):
    logits = V.leaves(case["logits"])
    probs = function(logits)
    if check:
        probs = V.need_values(returned(probs, "softmax"), len(logits), "softmax's answer")
    V.weighted_sum(probs, case["weights"]).backward()
    return {"probs": V.data(probs, "p"), "grads": V.grads(logits, "logits")}


def softmax_reference(case):
    return softmax_result(package_softmax, case)


def softmax_run(namespace, case):
    return softmax_result(namespace["softmax"], case, check=True)


def softmax_random_case(rng, size):
    return {"logits": V.rounded(rng, -4, 4, size), "weights": V.rounded(rng, -2, 2, size)}


def softmax_show(case):
    return f"softmax([Value(x) for x in {show(case['logits'])}])"


def softmax_explain(case, difference, expected, actual):
    call = f"softmax({show(case['logits'])})"
    if difference.key == "probs":
        e, a = show_pair(expected["probs"], actual["probs"])
        return f"{call} should give {e}; yours gives {a}."
    e, a = show_pair(difference.expected, difference.actual)
    return (f"{call} gives the right probabilities p but not the right gradients: after "
            f"backward() of L = {V.show_weights(case['weights'])}, logits[{difference.index}]"
            f".grad should be {e}; yours is {a}.")


SOFTMAX = Exercise(
    id="softmax",
    title="A stable softmax",
    lesson="autograd",
    names=("softmax",),
    subject="Your softmax",
    solution=SOFTMAX_SOLUTION,
    fixed=(
        {"logits": [1.0, 2.0, 3.0], "weights": [1.0, 0.0, 0.0]},
        {"logits": [0.5], "weights": [1.0]},
        {"logits": [2.0, 2.0, 2.0, 2.0], "weights": [0.5, -1.0, 2.0, 0.25]},
        {"logits": [1000.0, 999.0, 998.0], "weights": [1.0, -2.0, 0.5]},
        {"logits": [-1000.0, -999.5], "weights": [1.0, 0.0]},
    ),
    random_case=softmax_random_case,
    sizes=(3, 1, 6, 9, 2, 4, 7, 5),
    run=softmax_run,
    reference=softmax_reference,
    explain=softmax_explain,
    show_case=softmax_show,
    checks_gradients=True,
    mistakes=(
        Mistake(
            "no-max-subtraction",
            "Subtract the largest score from every score before exp: math.exp(1000) "
            "overflows, and the shift changes no probability (exp(−max) cancels above and "
            "below the line).",
            _softmax_with("exps = [(val - max_val).exp() for val in logits]",
                          "exps = [val.exp() for val in logits]"),
            {"logits": [1000.0, 999.0, 998.0], "weights": [1.0, -2.0, 0.5]},
        ),
        Mistake(
            "not-normalised",
            "Divide each exp by the sum of them all, so that the probabilities add up to 1.",
            _softmax_with("return [e / total for e in exps]", "return exps"),
            {"logits": [1.0, 2.0, 3.0], "weights": [1.0, 0.0, 0.0]},
        ),
        Mistake(
            "floats-not-values",
            "Make the probabilities with Value operations on the logits, as in "
            "(val - max_val).exp(): a Value made from a plain number has no children, so "
            "backward() cannot reach the logits and their gradients stay 0.",
            "import math\n\nfrom tinygpt.value import Value\n\n\ndef softmax(logits):\n"
            "    max_val = max(val.data for val in logits)\n"
            "    exps = [math.exp(val.data - max_val) for val in logits]\n"
            "    total = sum(exps)\n"
            "    return [Value(e / total) for e in exps]\n",
            {"logits": [1.0, 2.0, 3.0], "weights": [1.0, 0.0, 0.0]},
        ),
    ),
)
