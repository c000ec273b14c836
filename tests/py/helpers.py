"""What the unit tests share, one of each: the test data, the one trained run, the
command-line runners and the checks of a refusal. (A plain module that tests import;
pytest's fixtures are in conftest.py, which no test imports by name: tests/e2e has a
conftest.py too.)"""

import base64
import contextlib
import copy
import functools
import io
import json
import math
import os
import struct
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# --- test data --------------------------------------------------------------------------------
# Names with accents (more than ASCII in the vocabulary) and names longer than a block
# of 8 (truncation is part of what must agree).
NAMES = """
emma olivia ava isabella sophia charlotte mia amelia harper evelyn abigail emily
elizabeth mila ella avery sofia camila aria scarlett victoria madison luna grace
chloe penelope layla riley zoey nora lily eleanor hannah lillian addison aubrey
ellie stella natalie zoe leah hazel violet aurora savannah audrey brooklyn bella
liam noah william james oliver benjamin elijah lucas mason logan alexander ethan
jacob michael daniel henry jackson sebastian aiden matthew samuel david joseph
carter owen wyatt john jack luke jayden dylan grayson levi isaac gabriel julian
zoé jürgen ångström maximiliano christopher
""".split()
TEXT = "\n".join(NAMES) + "\n"
FEW = "\n".join(NAMES[:10]) + "\n"  # ten names: for what needs only a vocabulary
# Forty of them, on which test_export_torch's run makes greedy names that fill a block of
# 8, which its test of greedy generation needs (on all of NAMES none does).
EXPORT_NAMES = """
emma olivia ava isabella sophia charlotte mia amelia harper evelyn abigail emily
elizabeth mila ella avery sofia camila aria scarlett victoria madison luna grace
liam noah william james oliver benjamin elijah lucas mason logan alexander ethan
zoé jürgen maximiliano christopher
""".split()
# test_reference.py's run: 200 names, NAMES' first 48 girls and 36 boys and more of each.
REFERENCE_NAMES = NAMES[:48] + """
claire skylar lucy paisley everly anna caroline nova genesis emilia kennedy samantha
maya willow kinsley naomi aaliyah elena sarah ariana allison gabriella alice madelyn
cora ruby eva serenity autumn adeline hailey gianna valentina isla eliana quinn nevaeh
ivy sadie piper lydia alexa josephine emery julia delilah arianna vivian kaylee sophie
brielle madeline""".split() + NAMES[48:84] + """
mateo anthony jaxon lincoln joshua christopher andrew theodore caleb ryan asher nathan
thomas leo isaiah charles josiah hudson christian hunter connor eli ezra aaron landon
adrian jonathan nolan jeremiah easton elias colton cameron carson robert angel maverick
nicholas dominic jaxson greyson adam ian austin santiago jordan cooper brayden roman evan
ezekiel xavier jose jace jameson leonardo bryson axel everett parker kayden miles sawyer
jason""".split()
# Messy input on purpose: surrounding spaces, blank lines and a trailing newline must
# be handled exactly like microgpt.py does (strip, drop empty lines).
REFERENCE_TEXT = "\n".join(f"  {name} " if i % 7 == 0 else name
                           for i, name in enumerate(REFERENCE_NAMES))
REFERENCE_TEXT = REFERENCE_TEXT.replace("\nmia\n", "\n\n   \nmia\n") + "\n\n"

# A small model: big enough for every part to matter (two heads, a block shorter than
# the longest names), small enough to train in milliseconds a step.
SMALL = {"n_embd": 8, "n_head": 2, "n_layer": 1, "block_size": 8}
SMALL_ARGS = ["--n-embd", "8", "--n-head", "2", "--n-layer", "1", "--block-size", "8"]
# The tiniest model, for tests where only the counting of steps, names and files matters.
TINY = {"n_embd": 4, "n_head": 2, "n_layer": 1, "block_size": 4}
# The one trained run the tests share (`trained` in conftest.py): two layers, so what is
# per layer is checked per layer.
TRAINED = {**TINY, "n_layer": 2, "block_size": 8, "steps": 60, "seed": 3}


def one_line(message):
    """A message for people: one non-empty line."""
    return isinstance(message, str) and bool(message.strip()) and "\n" not in message


# --- the one trained run ------------------------------------------------------------------------
@functools.cache
def _trained_state():
    from tinygpt.session import Session

    session = Session()
    session.new_run(TEXT, TRAINED)
    session.train_for(60_000)
    assert session.trainer.done
    return session.run_state()


def trained_session():
    """A Session holding the TRAINED run on TEXT, finished: trained once per test run,
    each call a fresh copy (restored from its saved state, which is exact)."""
    from tinygpt.session import Session

    session = Session()
    session.restore_run(copy.deepcopy(_trained_state()))
    return session


def reference_with(params, config, text):
    """The independent transcription of microgpt.py (microgpt_reference.py) on `text`,
    its weights set to `params`: to check a model's numbers against."""
    from microgpt_reference import MicroGPT

    ref = MicroGPT(text, **config.as_dict())
    for name, mat in params.items():
        for row_v, row_f in zip(ref.state_dict[name], mat, strict=True):
            for v, f in zip(row_v, row_f, strict=True):
                v.data = f
    return ref


def page_parts(file):
    """What the page's worker sends Python for a parsed model file (app/model-file-worker.js,
    Session.open_model_file): the fields but the weights as JSON, the length of every row
    (-1 for what is not a list), and every number as base64 float64."""
    file = dict(file)
    weights = file.pop("state_dict", None)
    numbers, rows = [], None
    if isinstance(weights, dict):
        rows = {}
        for name, matrix in weights.items():
            if not isinstance(matrix, list):
                rows[name] = -1
                continue
            rows[name] = [len(row) if isinstance(row, list) else -1 for row in matrix]
            numbers += [_as_float64(x) for row in matrix if isinstance(row, list) for x in row]
    data = struct.pack(f"<{len(numbers)}d", *numbers)
    return {"header": json.dumps(file), "rows": rows, "weights": base64.b64encode(data).decode()}


def _as_float64(x):
    """A JSON value as JavaScript's JSON.parse gives the worker a number: beyond the float
    range, infinite; not a number at all, NaN."""
    if type(x) not in (int, float):
        return math.nan
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf


def reference_loss(ref, doc):
    """The reference's loss of one document (forward only), its graph of Values built and
    freed with the garbage collector paused, as tinygpt's scalar step does (a third faster)."""
    from tinygpt.model import collector_paused

    with collector_paused():
        return ref.loss(ref.tokens(doc)).data


# --- the command line ---------------------------------------------------------------------------
def child_env(pythonpath=True, **extra):
    """The environment of a child Python: this process's, the package importable (unless
    `pythonpath` is False: projects that must run without it), and no __pycache__
    written into the repository."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath:
        env["PYTHONPATH"] = str(ROOT / "py")
    return {**env, "PYTHONDONTWRITEBYTECODE": "1", **extra}


def tinygpt(args, cwd, timeout=120, check=False):
    """`python -m tinygpt ARGS` in a subprocess, as people run it (check: it must succeed)."""
    result = subprocess.run([sys.executable, "-m", "tinygpt", *args], cwd=cwd, env=child_env(),
                            capture_output=True, text=True, timeout=timeout)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def tinygpt_here(args, cwd):
    """What `python -m tinygpt ARGS` runs (`sys.exit(main(ARGS))`), in this process: the
    exit code, stdout and stderr as a subprocess would give them, in a fraction of the
    time. For the many refusals; the subprocess runs (`tinygpt`) prove the entry point."""
    from tinygpt.__main__ import main

    out, err, before = io.StringIO(), io.StringIO(), os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    finally:
        os.chdir(before)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def listing(folder):
    """Every entry of the folder, hidden ones included."""
    return sorted(os.listdir(folder))


def assert_refused(result, folder, before, *fragments):
    """Non-zero exit, one line on stderr, no traceback, no new file in `folder`."""
    assert result.returncode != 0, result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    assert lines[0].startswith("error: ") and len(lines[0]) > len("error: ") + 10
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert listing(folder) == before


def positions_fed(monkeypatch):
    """The number of positions each call of fast.forward feeds from now on (patched in for
    the test): the list, filled as the calls come."""
    from tinygpt import fast

    fed, forward = [], fast.forward

    def counting(params, config, tokens, cache=None, record=None):
        fed.append(len(tokens))
        return forward(params, config, tokens, cache, record)

    monkeypatch.setattr(fast, "forward", counting)
    return fed
