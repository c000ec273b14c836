"""What an exercise is: the learner's task, the package's answer, the cases that tell them
apart, and the typical mistakes it recognises by how they behave."""

from collections.abc import Callable
from dataclasses import dataclass

from .learner import LearnerError


@dataclass(frozen=True)
class Mistake:
    """A typical mistake, recognised by behaviour, not by reading the learner's source:
    `code` is the package's solution with that one mistake, and `probe` a case on which
    it answers differently from the package. Code that answers exactly as `code` does
    (the same result, or the same exception) there is told `hint`."""

    key: str
    hint: str
    code: str
    probe: dict


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    lesson: str  # the lesson (view id) that teaches it
    names: tuple  # what the learner's code must define
    subject: str  # how messages name the learner's piece: "Your softmax"
    solution: str  # the package's way, the text "Show a solution" puts in the editor
    fixed: tuple  # cases every check runs first
    random_case: Callable  # (random.Random, size) -> a case
    sizes: tuple  # the sizes random cases cycle through
    run: Callable  # (the code's namespace, case) -> result (plain data) | LearnerError
    reference: Callable  # case -> the package's result
    explain: Callable  # (case, Difference, expected, actual) -> the sentence saying it
    show_case: Callable  # case -> its input, short, as Python
    mistakes: tuple = ()
    checks_gradients: bool = False


class Wrong(LearnerError):
    """The learner's function returned something of the wrong kind or shape."""


def returned(value, what):
    """Wrong, with a word about the stub, when `what` gave None: a function whose body is
    still the stub's `...` returns None."""
    if value is None:
        raise Wrong(f"{what} gave None: return the result (a body that is still the stub's "
                    "`...` gives None; write your code in its place).")
    return value
