"""The page's bridge: the only module that touches `pyscript` / `js`.

It exposes one function to JavaScript, `window.tinygptCall(name, argsJson)`, which
calls `session.api(...)[name](**args)` and answers with JSON: `{"ok": result}`, or
`{"error": message, "kind": "user" | "bug", "traceback": ...}`. JSON strings keep
the boundary simple: no proxies to leak, no JS objects inside Python.
"""

import gc

from . import jsonio
from .session import Session, api

_functions = api(Session())


def call(name, args_json="{}"):
    """The page's one entry into Python (the protocol of jsonio.call)."""
    return jsonio.call(_functions, name, args_json)


def install():
    """Register `call` on `window` (runs under PyScript only)."""
    from pyscript import window
    from pyscript.ffi import create_proxy

    window.tinygptCall = create_proxy(call)
    # Everything loaded so far (Pyodide, PyScript, this package) lives as long as the
    # page. Out of the garbage collector's sight, a full collection no longer walks it:
    # in Pyodide that took 10 to 20 ms, enough to make a 20 ms training slice long.
    gc.freeze()
    window.dispatchEvent(window.Event.new("tinygpt:ready"))
