"""Lesson 2 - autograd: a scalar `Value` that remembers how it was computed.

Each operation records its children and the local derivative of its result with
respect to each child. `backward()` then applies the chain rule from the output
back to every input, visiting nodes in reverse topological order. This is the
engine of Karpathy's micrograd and microgpt.py, operation for operation, so the
scalar GPT built on it does the same floating-point work as microgpt.py.

Like micrograd's, every node also knows the operation that made it, `_op`: "+", "*",
"**2" (the exponent written out), "exp", "log", "relu", or "" for a leaf. Only the
lessons' graph drawing reads it; the arithmetic never does.
"""

import math


class Value:
    __slots__ = ("data", "grad", "_children", "_local_grads", "_op")

    def __init__(self, data, children=(), local_grads=(), op=""):
        self.data = data
        self.grad = 0
        self._children = children
        self._local_grads = local_grads
        self._op = op

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1, 1), "+")

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __pow__(self, other):
        return Value(self.data**other, (self,), (other * self.data ** (other - 1),), f"**{other}")

    def log(self):
        return Value(math.log(self.data), (self,), (1 / self.data,), "log")

    def exp(self):
        return Value(math.exp(self.data), (self,), (math.exp(self.data),), "exp")

    def relu(self):
        return Value(max(0, self.data), (self,), (float(self.data > 0),), "relu")

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

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    def topological_order(self):
        """Every node this value depends on, children before parents.

        Iterative (an explicit stack), so a graph of any depth works, yet it visits
        nodes in exactly the order of the recursive depth-first search of micrograd:
        gradients then add up in the same order and give the same bits.
        """
        topo, visited = [], set()
        stack = [(self, iter(self._children))]
        visited.add(self)
        while stack:
            node, children = stack[-1]
            for child in children:
                if child not in visited:
                    visited.add(child)
                    stack.append((child, iter(child._children)))
                    break
            else:
                stack.pop()
                topo.append(node)
        return topo

    def backward(self):
        """Fill `.grad` of every node with d(self)/d(node) by the chain rule."""
        self.grad = 1
        for v in reversed(self.topological_order()):
            for child, local_grad in zip(v._children, v._local_grads):
                child.grad += local_grad * v.grad
