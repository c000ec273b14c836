"""The page's bridge: the only module that touches `pyscript` / `js`.

It exposes one function to JavaScript, `window.tinygptCall(name, argsJson)`, which
calls `session.api(...)[name](**args)` and answers with JSON: `{"ok": result}`, or
`{"error": message, "kind": "user" | "bug", "traceback": ...}`. JSON strings keep
the boundary simple: no proxies to leak, no JS objects inside Python.
"""

import json
import traceback

from .errors import TinyGPTError
from .session import Session, api

_functions = api(Session())


def call(name, args_json="{}"):
    try:
        function = _functions.get(name) if isinstance(name, str) else None
        if function is None:
            raise LookupError(f"There is no function {name!r} (known: {', '.join(_functions)}).")
        args = json.loads(args_json)
        if not isinstance(args, dict):
            raise TypeError(f"The arguments of {name} must be a JSON object, not {args_json!r}.")
        result = function(**args)
        return json.dumps({"ok": result}, allow_nan=False)
    except TinyGPTError as e:
        return json.dumps({"error": str(e), "kind": "user"})
    except Exception as e:  # a bug: show it whole so it can be reported
        message = f"{type(e).__name__}: {e}"
        return json.dumps({"error": message, "kind": "bug", "traceback": traceback.format_exc()})


def install():
    """Register `call` on `window` (runs under PyScript only)."""
    from pyscript import window
    from pyscript.ffi import create_proxy

    window.tinygptCall = create_proxy(call)
    window.dispatchEvent(window.Event.new("tinygpt:ready"))
