"""The scalar autograd `Value`: every operation's value and gradient, and deep graphs."""

import math
import random
import sys

import microgpt_reference as ref
import pytest

from tinygpt.value import Value


def grad_of(fn, x):
    v = Value(x)
    out = fn(v)
    out.backward()
    return out.data, v.grad


def central(fn, x, h=1e-6):
    return (fn(x + h) - fn(x - h)) / (2 * h)


UNARY = {
    # name: (function on Values, the same on floats, analytic derivative)
    "add_const": (lambda v: v + 3.5, lambda x: x + 3.5, lambda x: 1.0),
    "radd": (lambda v: 3.5 + v, lambda x: 3.5 + x, lambda x: 1.0),
    "mul_const": (lambda v: v * -2.5, lambda x: x * -2.5, lambda x: -2.5),
    "rmul": (lambda v: -2.5 * v, lambda x: -2.5 * x, lambda x: -2.5),
    "neg": (lambda v: -v, lambda x: -x, lambda x: -1.0),
    "sub_const": (lambda v: v - 2, lambda x: x - 2, lambda x: 1.0),
    "rsub": (lambda v: 2 - v, lambda x: 2 - x, lambda x: -1.0),
    "div_const": (lambda v: v / 4, lambda x: x / 4, lambda x: 0.25),
    "rdiv": (lambda v: 2 / v, lambda x: 2 / x, lambda x: -2 / x**2),
    "pow2": (lambda v: v**2, lambda x: x**2, lambda x: 2 * x),
    "pow3": (lambda v: v**3, lambda x: x**3, lambda x: 3 * x**2),
    "pow_neg_half": (lambda v: v**-0.5, lambda x: x**-0.5, lambda x: -0.5 * x**-1.5),
    "pow_minus1": (lambda v: v**-1, lambda x: 1 / x, lambda x: -1 / x**2),
    "log": (lambda v: v.log(), math.log, lambda x: 1 / x),
    "exp": (lambda v: v.exp(), math.exp, math.exp),
    "self_add": (lambda v: v + v, lambda x: 2 * x, lambda x: 2.0),
    "self_mul": (lambda v: v * v, lambda x: x * x, lambda x: 2 * x),
    "self_sub": (lambda v: v - v, lambda x: 0.0, lambda x: 0.0),
    "self_div": (lambda v: v / v, lambda x: 1.0, lambda x: 0.0),
    "composite": (
        lambda v: (v * v + 1).log() * v.exp() - 3 / (v + 5),
        lambda x: math.log(x * x + 1) * math.exp(x) - 3 / (x + 5),
        lambda x: (2 * x / (x * x + 1)) * math.exp(x)
        + math.log(x * x + 1) * math.exp(x)
        + 3 / (x + 5) ** 2,
    ),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("x", [0.37, 1.9, 4.2])
def test_unary_ops_value_and_gradient(name, x):
    vfn, ffn, dfn = UNARY[name]
    data, grad = grad_of(vfn, x)
    assert math.isclose(data, ffn(x), rel_tol=1e-12, abs_tol=1e-15)
    assert math.isclose(grad, dfn(x), rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(grad, central(ffn, x), rel_tol=1e-6, abs_tol=1e-8)


@pytest.mark.parametrize("x", [-1.5, -0.1, 0.2, 3.0])
def test_relu(x):
    data, grad = grad_of(lambda v: v.relu(), x)
    assert data == max(0.0, x)
    assert grad == (1.0 if x > 0 else 0.0)


def test_relu_at_zero_has_zero_gradient():
    data, grad = grad_of(lambda v: v.relu(), 0.0)
    assert data == 0 and grad == 0


def test_binary_ops_gradients_of_both_operands():
    a, b = Value(1.7), Value(-0.6)
    out = a * b + a / b - b**2 + (a - b).exp()
    out.backward()
    x, y = 1.7, -0.6
    assert math.isclose(out.data, x * y + x / y - y**2 + math.exp(x - y), rel_tol=1e-12)
    assert math.isclose(a.grad, y + 1 / y + math.exp(x - y), rel_tol=1e-12)
    assert math.isclose(b.grad, x - x / y**2 - 2 * y - math.exp(x - y), rel_tol=1e-12)


def test_gradient_accumulates_over_shared_subexpressions():
    x = Value(0.8)
    y = x * 3
    z = y * y + y  # y used three times
    z.backward()
    # z = 9x^2 + 3x -> dz/dx = 18x + 3
    assert math.isclose(x.grad, 18 * 0.8 + 3, rel_tol=1e-12)
    assert math.isclose(y.grad, 2 * 2.4 + 1, rel_tol=1e-12)


def test_value_to_the_power_of_value_is_not_silently_wrong():
    # only constant exponents are supported (as in microgpt.py); anything else must fail
    with pytest.raises(TypeError):
        2 ** Value(3.0)  # noqa: B018
    with pytest.raises(TypeError):
        Value(2.0) ** Value(3.0)  # noqa: B018


def test_log_of_non_positive_raises():
    with pytest.raises(ValueError):
        Value(0.0).log()
    with pytest.raises(ValueError):
        Value(-1.0).log()


@pytest.mark.parametrize("depth", [50_000])
def test_deep_chain_backward_does_not_hit_recursion_limit(depth):
    assert depth > sys.getrecursionlimit()
    x = Value(0.5)
    y = x
    for _ in range(depth):
        y = y * 1.00001 + 0.0
    y.backward()
    assert math.isclose(x.grad, 1.00001**depth, rel_tol=1e-9)
    assert math.isclose(y.data, 0.5 * 1.00001**depth, rel_tol=1e-9)


def test_deep_chain_topological_order_is_complete():
    x = Value(1.0)
    y = x
    for _ in range(30_000):
        y = y + x  # x is shared by every node: a deep and wide-fan-in graph
    order = y.topological_order()
    assert len(order) == len({id(v) for v in order})
    assert order[-1] is y and x in order
    position = {id(v): i for i, v in enumerate(order)}
    for v in order:
        for child in v._children:
            assert position[id(child)] < position[id(v)]
    y.backward()
    assert x.grad == 30_001


def random_graph(cls, seed):
    """The same random expression graph built from Value class `cls`."""
    rng = random.Random(seed)
    leaves = [cls(rng.uniform(0.5, 2.0)) for _ in range(6)]
    nodes = list(leaves)
    for _ in range(300):
        a, b = rng.choice(nodes), rng.choice(nodes)
        op = rng.randrange(9)
        if op == 0:
            n = a + b
        elif op == 1:
            n = a * b
        elif op == 2:
            n = a - b
        elif op == 3:
            n = a / (b * b + 1)
        elif op == 4:
            n = (a * a + 1).log()
        elif op == 5:
            n = (a * 0.1).exp()
        elif op == 6:
            n = (a - 1).relu()
        elif op == 7:
            n = 0.5 - a
        else:
            n = 1.5 / (a * a + 1)
        if abs(n.data) < 1e6:
            nodes.append(n)
    out = sum(nodes[-40:]) * (1 / 40)
    return leaves, out


@pytest.mark.parametrize("seed", range(5))
def test_same_bits_as_recursive_micrograd(seed):
    """The iterative topological sort accumulates gradients in micrograd's order."""
    leaves, out = random_graph(Value, seed)
    rleaves, rout = random_graph(ref.Value, seed)
    out.backward()
    rout.backward()
    assert out.data == rout.data
    assert [v.grad for v in leaves] == [v.grad for v in rleaves]
    assert any(v.grad != 0 for v in leaves)


def test_backward_gradients_match_finite_differences_on_random_graph():
    leaves, out = random_graph(Value, 11)
    out.backward()
    base = [v.data for v in leaves]
    assert evaluate_graph(11, base) == pytest.approx(out.data, rel=1e-12)
    for i, leaf in enumerate(leaves):
        h = 1e-6

        def at(delta, i=i):
            values = list(base)
            values[i] += delta
            return evaluate_graph(11, values)

        numeric = (at(h) - at(-h)) / (2 * h)
        assert math.isclose(leaf.grad, numeric, rel_tol=1e-5, abs_tol=1e-7), i


def evaluate_graph(seed, leaf_values):
    """random_graph with given leaf values, on plain floats (an independent forward)."""

    rng = random.Random(seed)
    for _ in range(6):
        rng.uniform(0.5, 2.0)
    nodes = list(leaf_values)
    for _ in range(300):
        a, b = rng.choice(nodes), rng.choice(nodes)
        op = rng.randrange(9)
        n = float_op(op, a, b)
        if abs(n) < 1e6:
            nodes.append(n)
    return sum(nodes[-40:]) * (1 / 40)


def float_op(op, a, b):
    if op == 0:
        return a + b
    if op == 1:
        return a * b
    if op == 2:
        return a - b
    if op == 3:
        return a / (b * b + 1)
    if op == 4:
        return math.log(a * a + 1)
    if op == 5:
        return math.exp(a * 0.1)
    if op == 6:
        return max(0.0, a - 1)
    if op == 7:
        return 0.5 - a
    return 1.5 / (a * a + 1)


def test_every_node_records_the_operation_that_made_it():
    """`_op`, as in micrograd: set by the operation, never guessed from the numbers."""
    a, b = Value(1.0), Value(1.0)
    assert a._op == "" and (a * b)._op == "*" and (a + b)._op == "+"
    assert (a**1)._op == "**1" and (a**2)._op == "**2" and (a**-0.5)._op == "**-0.5"
    assert a.exp()._op == "exp" and a.log()._op == "log" and a.relu()._op == "relu"
    # The composite operations are made of those: a - b = a + b * -1, a / b = a * b ** -1.
    diff, quotient = a - b, a / b
    assert diff._op == "+" and diff._children[1]._op == "*"
    assert quotient._op == "*" and quotient._children[1]._op == "**-1"
    assert (a * 2)._children[1]._op == ""  # a constant is a leaf


def test_value_has_no_instance_dict():
    """__slots__ keeps ~60,000 nodes per scalar step small; _op is one of them."""
    assert not hasattr(Value(1.0), "__dict__") and "_op" in Value.__slots__
