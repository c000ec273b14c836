"""JSON from outside, read safely, and the one JSON call protocol of the pages.

Links, files, saved records and the pages' calls all arrive as JSON text. `loads`
refuses text nested deeper than any of our formats before it parses it: Python's parser
recurses once per level, and in Pyodide a few thousand levels (a 20,000-`[` link header)
overflow the WebAssembly stack, which kills the interpreter instead of raising.

`call` is how JavaScript calls Python, in the playground (web.py) and in the lessons'
workers (lessons.py) alike: a function name and JSON arguments in, and JSON out —
`{"ok": result}`, or `{"error": message, "kind": "user"}` for a TinyGPTError (bad input,
explained), or `{"error", "kind": "bug", "traceback"}` for anything unexpected.
"""

import json
import re
import traceback

from .errors import TinyGPTError

# Our formats nest at most 4 levels (a model file's state_dict -> matrix -> row), a
# model's meta a few more; nothing we read needs more than this.
MAX_DEPTH = 12
# A string token, or one bracket: brackets inside strings do not count. A string's closing
# quote is optional, so a string that never ends still matches, once, to the end of the
# text: the scan then stops there. (Required, a missing one made the pattern fail and
# retry from every later quote, each time to the end: quadratic time, seconds for a 40 KB
# file.) Each character has one way to match, so nothing backtracks: linear time. The
# string pattern is "unrolled", runs of plain characters at a time: several times faster
# on the long strings of the pages' calls than one character per step.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*("?)|[\[\]{}]', re.DOTALL)


def nesting_depth(text, stop_after=MAX_DEPTH):
    """How deeply `text` nests arrays and objects, counting at most up to `stop_after` + 1.

    Reading stops at a string that never ends: JSON's parser fails there too, having
    nested no deeper than what was counted before it."""
    depth = deepest = 0
    for match in _TOKENS.finditer(text):
        c = match.group()
        if c[0] == '"':
            if not match.group(1):
                break  # the string runs to the end of the text
        elif c in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_after:
                    break
        else:
            depth -= 1
    return deepest


def check_depth(text, what, max_depth=MAX_DEPTH):
    if text.count("[") + text.count("{") <= max_depth:
        return  # it cannot nest deeper than it has brackets (and counting them is quick)
    if nesting_depth(text, max_depth) > max_depth:
        raise TinyGPTError(f"{what} nests more than {max_depth} levels deep: it is not "
                           "TinyGPT data (it may be damaged or made to break the page).")


def loads(text, what="The data", max_chars=None, max_depth=MAX_DEPTH):
    """Parsed JSON, or a TinyGPTError that says what is wrong with it."""
    if not isinstance(text, str):
        raise TinyGPTError(f"{what} must be text (JSON).")
    if max_chars is not None and len(text) > max_chars:
        raise TinyGPTError(f"{what} is too large: {len(text):,} characters, the limit is "
                           f"{max_chars:,}.")
    check_depth(text, what, max_depth)
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise TinyGPTError(f"{what} is not valid JSON (it may be truncated or damaged).") from None


def dumps(value):
    """JSON text; NaN and infinities are refused (other readers could not parse them).

    ASCII only: a lone surrogate in a string travels as an escape, never as raw text that
    UTF-8 (and so the bridge to JavaScript) cannot carry."""
    return json.dumps(value, allow_nan=False)


def call(functions, name, args_json="{}"):
    """Call functions[name](**args) and answer in JSON (see the module's docstring)."""
    try:
        function = functions.get(name) if isinstance(name, str) else None
        if function is None:
            known = ", ".join(functions)
            raise LookupError(f"There is no function {str(name)[:60]!r} (known: {known}).")
        if not isinstance(args_json, str):
            raise TypeError("The arguments must be JSON text.")
        check_depth(args_json, "The data given to TinyGPT")  # before parsing, see above
        args = json.loads(args_json)  # not JSON at all: a bug of the caller
        if not isinstance(args, dict):
            raise TypeError(f"The arguments of {name} must be a JSON object, not "
                            f"{str(args_json)[:60]!r}.")
        return dumps({"ok": function(**args)})
    except TinyGPTError as e:
        return json.dumps({"error": str(e), "kind": "user"})
    except Exception as e:  # a bug: show it whole so it can be reported
        message = f"{type(e).__name__}: {e}"
        return json.dumps({"error": message[:2000], "kind": "bug",
                           "traceback": traceback.format_exc()})
