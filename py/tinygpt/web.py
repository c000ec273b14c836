"""The page's bridge: the only module that touches `js` (the page's window).

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
    """Register `call` on `window` (runs in the page's Pyodide only: app/python-start.js)."""
    import js as window  # the page's global object: Pyodide runs on the page's thread
    from pyodide.ffi import create_proxy

    window.tinygptCall = create_proxy(call)
    # Everything loaded so far (Pyodide, this package) lives as long as the
    # page. Out of the garbage collector's sight, a full collection no longer walks it:
    # in Pyodide that took 10 to 20 ms, enough to make a 20 ms training slice long.
    gc.freeze()
    window.dispatchEvent(window.Event.new("tinygpt:ready"))
