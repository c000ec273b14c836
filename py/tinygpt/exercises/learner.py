"""Running a learner's code: compile it, run it, call what it defines, and turn whatever
goes wrong into one message that names the line of their code.

Everything that touches the learner's objects goes through `attempt`, so a check always
ends in a message: their code may raise anything (SystemExit too), return anything, or
print a lot. What it cannot be stopped from doing is run forever: the page's Stop button
ends the worker (app/lessons/exercises.js), as it does for a cell.
"""

import io
import linecache
import sys
import traceback
from contextlib import redirect_stderr, redirect_stdout

from ..errors import TinyGPTError

MAX_CODE = 20_000  # characters of an exercise's code
MAX_PRINTED = 2_000  # characters of what the code printed, kept for the page
MAX_SHOWN = 240  # characters of an exception's message in a sentence


def filename(exercise_id):
    """The name tracebacks give the code of one exercise (so a training run can tell
    whose piece raised)."""
    return f"<exercise {exercise_id}>"


class LearnerError(Exception):
    """The learner's code failed or returned something unusable; str() is the message.

    `error_type` names the exception their code raised (None when the code returned
    something of the wrong kind): typical mistakes are recognised by it too.
    """

    def __init__(self, message, error_type=None):
        super().__init__(message)
        self.error_type = error_type


class Printed:
    """What the learner's code printed during a check, up to MAX_PRINTED characters."""

    def __init__(self):
        self.parts, self.size, self.cut = [], 0, False

    def write(self, text):
        if not isinstance(text, str):
            text = str(text)
        room = MAX_PRINTED - self.size
        if len(text) > room:
            text, self.cut = text[: max(room, 0)], True
        self.parts.append(text)
        self.size += len(text)
        return len(text)

    def flush(self):
        pass

    def text(self):
        return "".join(self.parts) + ("\n[cut here]" if self.cut else "")


def _quiet(printed):
    """Redirect print() while the learner's code runs (into `printed`, or nowhere)."""
    stream = printed if printed is not None else io.StringIO()
    return redirect_stdout(stream), redirect_stderr(stream)


def _safe_text(error):
    """The exception's last traceback line, "ValueError: message", even when its
    __str__ is broken (the learner may define their own exception classes)."""
    try:
        line = traceback.format_exception_only(type(error), error)[-1].strip()
    except Exception:  # noqa: BLE001 - a broken __str__: the type alone
        line = type(error).__name__
    return line if len(line) <= MAX_SHOWN else line[: MAX_SHOWN - 1] + "…"


def where(error, files):
    """(line number, line text, file) of the innermost frame of the learner's code (a file
    in `files`) in the exception's traceback, or None."""
    found = None
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename in files:
            found = (tb.tb_lineno, tb.tb_frame.f_code.co_filename)
        tb = tb.tb_next
    if found is None:
        return None
    number, file = found
    line = linecache.getline(file, number).strip()
    return number, line, file


def describe(error, files, what):
    """One sentence: what raised what, at which line of the learner's code."""
    text = _safe_text(error)
    place = where(error, files)
    if place is None:
        return f"{what} raised {text}."
    number, line, _ = place
    shown = f": `{line}`" if line and len(line) <= 120 else ""
    return f"{what} raised {text} at line {number}{shown}."


def attempt(action, files, what, printed=None):
    """action() with print() captured; any exception becomes a LearnerError. The
    recursion limit is put back afterwards: code that raises it would otherwise let a
    later endless recursion overflow the browser's own stack instead of raising."""
    out, err = _quiet(printed)
    limit = sys.getrecursionlimit()
    try:
        with out, err:
            return action()
    except LearnerError:
        raise
    except BaseException as error:  # noqa: BLE001 - the learner's code: SystemExit too
        raise LearnerError(describe(error, files, what), type(error).__name__) from None
    finally:
        sys.setrecursionlimit(limit)


def load(code, exercise_id, names, printed=None):
    """Run the learner's code in a fresh namespace and return it; LearnerError when it
    does not compile, raises, or does not define every one of `names`."""
    if not isinstance(code, str):
        raise TinyGPTError("The exercise's code must be text.")
    if len(code) > MAX_CODE:
        raise TinyGPTError(
            f"The code is {len(code):,} characters long; an exercise takes up to {MAX_CODE:,}."
        )
    file = filename(exercise_id)
    # Registered in linecache so messages can quote the learner's lines.
    linecache.cache[file] = (len(code), None, code.splitlines(True), file)
    try:
        compiled = compile(code, file, "exec")
    except SyntaxError as error:
        number = error.lineno or 1
        raise LearnerError(
            f"Python cannot read your code: {type(error).__name__} at line {number} "
            f"({error.msg}).",
            type(error).__name__,
        ) from None
    except (ValueError, MemoryError, RecursionError) as error:  # e.g. a NUL character
        raise LearnerError(
            f"Python cannot read your code: {_safe_text(error)}.", type(error).__name__
        ) from None
    namespace = {"__name__": "__exercise__"}
    attempt(lambda: exec(compiled, namespace), {file}, "Running your code", printed)
    for name in names:
        if name not in namespace:
            raise LearnerError(
                f"Your code must define `{name}`, and it does not (was it renamed or deleted?)."
            )
        if not callable(namespace[name]):
            raise LearnerError(f"`{name}` must be a function (or a class), not a value.")
    return namespace

