"""JSON from outside is checked in linear time.

jsonio's nesting check used to rescan to the end of the text from every `"` of an
unterminated string: a 40 KB model file of `[]` x 13 + `"\\` x 20000 took 4.6 s in the CLI,
and an 82-character `#model=` link one 2.9 s task in the page. The check must take time
proportional to the text, whatever it holds, and agree with a plain character-by-character
reading of JSON's strings and brackets.
"""

import json
import struct
import subprocess
import sys
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygpt import checkpoint, compact, jsonio
from tinygpt.errors import TinyGPTError

ROOT = Path(__file__).resolve().parents[2]


def unterminated(pairs):
    """The attack: enough brackets to pass the quick count, then `"\\` again and again: one
    string that never ends, whose every other `"` looks like the start of another."""
    return "[]" * 13 + '"\\' * pairs


def seconds(fn, *args, repeat=5):
    """The fastest of `repeat` runs, in this process's processor time: what the check
    costs, not the time the machine gave other work meanwhile (the unit tests share its
    cores; a ratio of wall times once measured 38 where 24 is allowed, with two other
    suites running beside them)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        fn(*args)
        best = min(best, time.process_time() - start)
    return best


def test_the_crafted_model_file_is_refused_at_once():
    text = unterminated(20_000)  # 40 KB: 4.6 s in the CLI before the fix
    assert len(text) == 40_026
    took = seconds(lambda: _refused(checkpoint.loads, text), repeat=1)
    assert took < 0.5, f"{took:.2f} s"


def _refused(fn, *args):
    try:
        fn(*args)
    except TinyGPTError as e:
        return str(e)
    raise AssertionError("accepted")


def test_the_crafted_link_header_is_refused_at_once():
    header = unterminated(9_000).encode()  # within the 20 KB header limit
    data = struct.pack("<4sBBI", b"TGPT", 1, 16, len(header)) + header
    took = seconds(lambda: _refused(compact.unpack, data, True), repeat=1)
    assert took < 0.5, f"{took:.2f} s"


def test_the_check_grows_linearly_with_the_text():
    # Eight times the text: about eight times the time; a quadratic check takes 64 times.
    # The bound lies between the two (their geometric mean, rounded up), far from both: the
    # unit tests share the machine's cores with each other, and with four times the text
    # and a bound of 8 (the linear 4 against a quadratic 16) a disturbed run once measured
    # 8.6. The minimum of nine runs of each absorbs the noise of a single one.
    small, large = unterminated(25_000), unterminated(200_000)
    ratio = (seconds(jsonio.nesting_depth, large, repeat=9)
             / seconds(jsonio.nesting_depth, small, repeat=9))
    assert ratio < 24, f"8x the text took {ratio:.1f}x the time"
    for text in (small, large, "[" * 50_000 + '"' + "x" * 50_000,
                 '"' + "\\\\" * 40_000 + "[" * 20):
        assert seconds(jsonio.nesting_depth, text, 10**9, repeat=1) < 0.5


def test_the_crafted_model_file_is_one_line_in_the_cli(tmp_path):
    path = tmp_path / "model.json"
    path.write_text(unterminated(20_000))
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "tinygpt", "sample", "--model", str(path)],
        capture_output=True, text=True, env={"PYTHONPATH": str(ROOT / "py")}, cwd=ROOT,
    )
    took = time.perf_counter() - start
    assert result.returncode != 0 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "not valid JSON" in result.stderr
    assert took < 3, f"{took:.1f} s (the interpreter's start-up included)"


# --- agreement with a plain reading ---------------------------------------------------------------
def reference_depth(text):
    """How deep `text` nests, read one character at a time: inside a string a backslash
    takes the next character with it and `"` ends it; outside, brackets count. Reading
    stops at a string that never ends (nothing after it can be JSON)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


json_text = st.text(alphabet='[]{}"\\x,\n', max_size=300)


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=json_text | st.text(max_size=100))
def test_the_scan_agrees_with_a_plain_reading(text):
    assert jsonio.nesting_depth(text, stop_after=10**9) == reference_depth(text)
    capped = jsonio.nesting_depth(text, stop_after=3)
    assert capped == min(reference_depth(text), 4)  # it stops counting past the limit


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(value=st.recursive(st.none() | st.text(alphabet='"\\[]{}ab', max_size=5)
                          | st.integers(),
                          lambda c: st.lists(c, max_size=3)
                          | st.dictionaries(st.text(alphabet='"\\[{a', max_size=3), c,
                                            max_size=3)))
def test_the_scan_reads_real_json_as_json_does(value):
    text = json.dumps(value)

    def depth(v):
        if isinstance(v, list):
            return 1 + max(map(depth, v), default=0)
        if isinstance(v, dict):
            return 1 + max(map(depth, v.values()), default=0)
        return 0

    assert jsonio.nesting_depth(text, stop_after=10**9) == depth(value)
