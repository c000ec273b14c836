"""TinyGPT: a tiny character-level GPT in pure Python.

Read the modules in the order of the lessons:
data (tokens) -> value (autograd) -> model (the GPT, scalar engine) -> fast (the same
GPT on whole vectors) -> optim (Adam) -> trainer (a run) -> checkpoint (model files)
-> __main__ (command line) -> web (the page's bridge, Pyodide only).
"""

__version__ = "0.1.0"
