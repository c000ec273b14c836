"""Checking a learner's answer: their code against the package's on fixed cases, then on
random ones, until the first case that differs; then the typical mistakes it behaves like.
"""

import random

from ..errors import TinyGPTError
from . import attention, autograd, sampling, tokens, training
from .compare import first_difference, same
from .learner import LearnerError, Printed, attempt, filename, load

EXERCISES = {
    ex.id: ex
    for ex in (
        tokens.EXERCISE,
        autograd.BACKWARD,
        autograd.SOFTMAX,
        attention.EXERCISE,
        training.LOSS,
        training.ADAM,
        sampling.EXERCISE,
    )
}
RANDOM_SEEDS = range(1, 9)  # the random cases of every check: seeds 1 to 8


def exercise(exercise_id):
    if not isinstance(exercise_id, str) or exercise_id not in EXERCISES:
        raise TinyGPTError(
            f"There is no exercise {str(exercise_id)[:40]!r} (there are: {', '.join(EXERCISES)})."
        )
    return EXERCISES[exercise_id]


def case(exercise_id, seed):
    """The random case `seed` of an exercise, as its check runs it: the same seed gives the
    same case, so a message's case can be made again (a cell can print it)."""
    ex = exercise(exercise_id)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 1:
        raise TinyGPTError("The seed of a case is a whole number from 1.")
    size = ex.sizes[(seed - 1) % len(ex.sizes)]
    return ex.random_case(random.Random(seed), size)


def all_cases(ex):
    """(label, case) in the order a check runs them."""
    for number, fixed in enumerate(ex.fixed, 1):
        yield f"Case {number} of {len(ex.fixed)}", fixed
    for seed in RANDOM_SEEDS:
        yield f"Random case, seed {seed}", case(ex.id, seed)


def outcome(ex, namespace, one_case, printed=None):
    """("ok", result) or ("raised", LearnerError) for the code of `namespace` on a case."""
    files = {filename(ex.id)}
    try:
        return "ok", attempt(lambda: ex.run(namespace, one_case), files, ex.subject, printed)
    except LearnerError as error:
        return "raised", error


def alike(a, b):
    """Two outcomes that are the same behaviour: equal results (within the tolerance), or
    the same kind of exception."""
    if a[0] != b[0]:
        return False
    if a[0] == "ok":
        return same(a[1], b[1])
    return a[1].error_type is not None and a[1].error_type == b[1].error_type


_mistake_code = {}  # (exercise id, key) -> its namespace: compiled once per process


def _mistake_namespace(ex, mistake):
    key = (ex.id, mistake.key)
    if key not in _mistake_code:
        _mistake_code[key] = load(mistake.code, f"{ex.id} mistake", ex.names)
    return _mistake_code[key]


def matching_mistakes(ex, namespace, failed_case):
    """The typical mistakes the learner's code behaves like: on the case it failed and on
    the mistake's own probe (where the mistake answers otherwise than the package), it
    does exactly what that mistake does."""
    found = []
    for mistake in ex.mistakes:
        wrong = _mistake_namespace(ex, mistake)
        probes = [failed_case] if mistake.probe == failed_case else [failed_case, mistake.probe]
        if all(alike(outcome(ex, wrong, p), outcome(ex, namespace, p)) for p in probes):
            found.append(mistake)
    return found


def _answer(ex, state, message, printed, mistakes=(), cases=0):
    return {
        "exercise": ex.id,
        "state": state,
        "message": message,
        "mistake": mistakes[0].key if mistakes else None,
        "hint": " ".join(m.hint for m in mistakes) or None,
        "printed": printed.text(),
        "cases": cases,
    }


def check(exercise_id, code):
    """The learner's code for an exercise against the package's. Always an answer:
    {exercise, state: "pass" | "fail", message, mistake, hint, printed, cases}."""
    ex = exercise(exercise_id)
    printed = Printed()
    try:
        namespace = load(code, ex.id, ex.names, printed)
    except LearnerError as error:
        return _answer(ex, "fail", str(error), printed)
    count = 0
    for label, one_case in all_cases(ex):
        count += 1
        expected = ex.reference(one_case)
        theirs = outcome(ex, namespace, one_case, printed)
        if theirs[0] == "ok" and same(expected, theirs[1]):
            continue
        if theirs[0] == "raised":
            message = f"{label} ({ex.show_case(one_case)}): {theirs[1]}"
        else:
            difference = first_difference(expected, theirs[1])
            message = f"{label}: {_safe_explain(ex, one_case, difference, expected, theirs[1])}"
        mistakes = matching_mistakes(ex, namespace, one_case)
        return _answer(ex, "fail", message, printed, mistakes, count)
    what = "values and every gradient" if ex.checks_gradients else "every value"
    message = (
        f"Passed: all {count} cases give TinyGPT's results ({len(ex.fixed)} fixed cases and "
        f"{len(RANDOM_SEEDS)} random ones, seeds {RANDOM_SEEDS[0]} to {RANDOM_SEEDS[-1]}), "
        f"{what} to 1e-9."
    )
    return _answer(ex, "pass", message, printed, cases=count)


def _safe_explain(ex, one_case, difference, expected, actual):
    try:
        return ex.explain(one_case, difference, expected, actual)
    except Exception:  # noqa: BLE001 - a message for odd output must not crash the check
        return f"the result differs from TinyGPT's at {'/'.join(map(str, difference.path))}."


def solution(exercise_id):
    """The package's way, as "Show a solution" puts it in the editor."""
    return exercise(exercise_id).solution
