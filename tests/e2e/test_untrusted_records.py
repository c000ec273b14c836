"""What any script of the site can write into the page's database or post on the tabs'
channel, fuzzed in real Chromium: app/records.js and app/tabs.js readMessage accept a
record or message exactly when an independent statement of the rules in docs/formats.md
(here, in Python) does, give back only checked fields, and never fail with anything but a
RecordError (a record) or null (a message)."""

import functools
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygpt.data import hidden_character

CHECK = """async ([kind, records]) => {
    const records_ = await import(new URL('../app/records.js', location.href));
    const check = { run: records_.checkRun, history: records_.checkHistory,
                    model: records_.checkModel }[kind];
    return records.map((record) => {
        try { return { ok: check(record) }; }
        catch (error) { return { error: error.name, user: error instanceof records_.RecordError }; }
    });
}"""
READ_MESSAGES = """async (messages) => {
    const { readMessage } = await import(new URL('../app/tabs.js', location.href));
    return messages.map((m) => readMessage(m));
}"""

FUZZ = settings(max_examples=100, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

# Characters this CPython knows (the browser's Unicode may be newer: the two may disagree
# only on characters CPython does not know, see test_reliability's hidden-character test).
known_text = st.text(st.characters(exclude_categories=["Cn", "Cs"]), max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.floats() | known_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(known_text, inner, max_size=4),
    max_leaves=10,
)
long_text = st.sampled_from(["x" * 100, "x" * 101, "y" * 200, "y" * 201, "z" * 60, "z" * 61])
# Values near the rules' edges, as often as arbitrary ones.
field_values = st.one_of(
    json_values, long_text, st.integers(-1, 12), st.floats(-1, 12), st.none(), st.booleans(),
    st.sampled_from(["", "training", "validation", "x"]),
    st.lists(st.tuples(st.integers(-1, 12), st.floats(-1, 5)).map(list), max_size=3),
)


# --- the rules, stated again in Python (docs/formats.md, "The page's database") -------------
def units(text):  # a JavaScript string's length
    return len(text.encode("utf-16-le")) // 2


def is_text(v, most, empty=True, visible=False):
    return (isinstance(v, str) and units(v) <= most and (empty or v != "")
            and not (visible and hidden_character(v)))


def is_number(v, least=0.0):
    return (isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            and v >= least)


def is_whole(v, least=0):
    return is_number(v, least) and float(v).is_integer()


def maybe(check, v):
    return v is None or check(v)


def progress_ok(r):
    return is_whole(r.get("steps"), 1) and is_whole(r.get("step")) and r["step"] <= r["steps"]


def points_ok(v, most, steps):
    return isinstance(v, list) and len(v) <= most and all(
        isinstance(p, list) and len(p) == 2 and is_whole(p[0], 1) and p[0] <= steps
        and is_number(p[1]) for p in v)


def start_ok(r):
    return r.get("startedAt") is None or is_number(r["startedAt"])


def run_ok(r):
    if not isinstance(r, dict):
        return False
    d = r.get("dataset")
    return (is_text(r.get("id"), 100, empty=False)
            and is_number(r.get("savedAt")) and isinstance(d, dict)
            and isinstance(r.get("state"), dict) and start_ok(r) and progress_ok(r)
            and isinstance(r.get("done"), bool) and is_text(d.get("id"), 100)
            and is_text(d.get("title"), 200)
            and ("trainedMs" not in r or is_number(r["trainedMs"])))


def settings_ok(v):
    return isinstance(v, dict) and len(v) <= 40 and all(
        units(k) <= 100 and (x is None or isinstance(x, bool) or is_number(x, -math.inf)
                             or (isinstance(x, str) and units(x) <= 100))
        for k, x in v.items())


def history_ok(r):
    return (isinstance(r, dict) and progress_ok(r) and settings_ok(r.get("settings"))
            and is_number(r.get("savedAt")) and is_text(r.get("id"), 100, empty=False)
            and start_ok(r) and is_text(r.get("dataset"), 200)
            and isinstance(r.get("done"), bool)
            and all(maybe(is_number, r.get(k, 0)) and k in r
                    for k in ("loss", "valLoss", "namesPerSecond"))
            and ("lossKind" not in r or r["lossKind"] in ("validation", "training"))
            and is_number(r.get("seconds"))
            and points_ok(r.get("curve"), 1000, r["steps"])
            and points_ok(r.get("val"), 20_000, r["steps"])
            and ("shown" not in r or isinstance(r["shown"], bool)))


def model_ok(r):
    c = r.get("config") if isinstance(r, dict) else None
    return (isinstance(r, dict) and isinstance(c, dict)
            and is_whole(r.get("id"), 1) and is_text(r.get("name"), 60, False, True)
            and is_text(r.get("dataset"), 200, visible=True) and is_whole(r.get("params"), 1)
            and all(is_whole(c.get(k), 1) for k in ("n_embd", "n_head", "n_layer",
                                                      "block_size"))
            and "steps" in r and maybe(is_whole, r["steps"]) and "loss" in r
            and maybe(is_number, r["loss"]) and is_number(r.get("savedAt")))


VALID = {
    "run": ({"id": "7b0c", "savedAt": 1.7e12, "startedAt": 1.7e12, "step": 3, "steps": 10,
             "done": False, "dataset": {"id": "first_names", "title": "US first names"},
             "trainedMs": 500, "state": {"format": "tinygpt-run"}}, run_ok),
    "history": ({"id": "7b0c", "savedAt": 1.7e12, "startedAt": 1.7e12, "settings": {"lr": 0.01},
                 "dataset": "US first names", "step": 3, "steps": 10, "done": False,
                 "loss": 2.5, "lossKind": "training", "valLoss": None, "namesPerSecond": 100,
                 "seconds": 1, "curve": [[1, 3.3], [3, 3.1]], "val": [], "shown": True},
                history_ok),
    "model": ({"id": 1, "name": "US first names, 1000 steps", "dataset": "US first names",
               "params": 4192, "config": {"n_embd": 16, "n_head": 4, "n_layer": 1,
                                          "block_size": 16},
               "steps": 1000, "loss": 2.3, "savedAt": 1.7e12}, model_ok),
}


def numbers_in(value):
    if isinstance(value, dict):
        return [n for v in value.values() for n in numbers_in(v)]
    if isinstance(value, list):
        return [n for v in value for n in numbers_in(v)]
    return [value] if isinstance(value, int | float) and not isinstance(value, bool) else []


def near_values(base):
    """The record's own numbers and one off, and numbers at the rules' edges."""
    near = {x + d for x in numbers_in(base) for d in (-1, 0, 1)} | {0, -1, 0.5, 1e300, 2**53 + 1}
    return sorted(near, key=repr) + [math.nan, math.inf, -0.0]


def paths_of(base):
    return [(k,) for k in base] + [(k, inner) for k, v in base.items() if isinstance(v, dict)
                                   for inner in v]


def replace(record, path, value):
    """`record` with the field at `path` set to `value` (or removed: REMOVE)."""
    record = {k: (dict(v) if isinstance(v, dict) else v) for k, v in record.items()}
    where = record if len(path) == 1 else record.get(path[0])
    if not isinstance(where, dict):  # a first change took the nested object away
        return record
    if value is REMOVE:
        where.pop(path[-1], None)
    else:
        where[path[-1]] = value
    return record


def records_of(kind):
    """Valid records with one or two fields (nested ones too) replaced by a value near the
    rules' edges or by anything at all, or removed; and arbitrary JSON."""
    base, _ = VALID[kind]
    change = st.tuples(st.sampled_from(paths_of(base)), st.one_of(
        st.sampled_from(near_values(base)), field_values, st.just(REMOVE)))
    record = st.builds(lambda changes: functools.reduce(lambda r, c: replace(r, *c), changes,
                                                        base),
                       st.lists(change, min_size=1, max_size=2))
    return st.lists(st.one_of(record, record, record, json_values), min_size=1, max_size=20)


REMOVE = object()


def a_page_of_the_site(page, site):
    """The checks need no Python: any page of the site imports them (no Pyodide to wait
    for)."""
    if page.url == "about:blank":
        page.goto(site + "data/datasets.json")


def check_in_page(page, site, kind, records):
    a_page_of_the_site(page, site)
    return page.evaluate(CHECK, [kind, records])


def assert_agrees(kind, records, answers):
    _, rule = VALID[kind]
    for record, answer in zip(records, answers):
        if "error" in answer:
            assert answer["user"], (record, answer)  # a RecordError, never a crash
        assert ("ok" in answer) == rule(record), (record, answer)


@FUZZ
@given(records=records_of("run"))
def test_fuzzed_run_records(page, site, records):
    answers = check_in_page(page, site, "run", records)
    assert_agrees("run", records, answers)
    for answer in answers:
        if "ok" in answer:  # only the fields the page uses, and its size
            assert set(answer["ok"]) == {"id", "savedAt", "startedAt", "step", "steps", "done",
                                         "dataset", "trainedMs", "state", "bytes"}
            assert is_whole(answer["ok"]["bytes"], 1)


@FUZZ
@given(records=records_of("history"))
def test_fuzzed_history_records(page, site, records):
    assert_agrees("history", records, check_in_page(page, site, "history", records))


@FUZZ
@given(records=records_of("model"))
def test_fuzzed_model_records(page, site, records):
    assert_agrees("model", records, check_in_page(page, site, "model", records))


# Every field broken alone, in every way the fuzzing tries (not at random: each rule, each
# edge), e.g. a step one past the run's steps, a curve point past the last step.
ALONE = [None, True, "", "x", "x" * 101, "y" * 201, "z" * 61, [], {}, [[1, 2.5]], [[0, 1.0]],
         [[11, 1.0]], [[3, -1.0]], "training", "validation", "\u202e"]


def test_every_field_broken_alone_agrees_with_the_rules(page, site):
    for kind, (base, _) in VALID.items():
        records = [replace(base, path, value) for path in paths_of(base)
                   for value in [*near_values(base), *ALONE, REMOVE]]
        answers = check_in_page(page, site, kind, records)
        assert_agrees(kind, records, answers)
        assert 0 < sum("ok" in a for a in answers) < len(records)


def test_valid_records_pass_and_the_fuzzing_can_fail(page, site):
    for kind, (record, rule) in VALID.items():
        assert rule(record)
        assert "ok" in check_in_page(page, site, kind, [record])[0], kind
        for broken in ({**record, "id": None}, {**record, "savedAt": "now"}, [record], None):
            assert not rule(broken)
            assert check_in_page(page, site, kind, [broken])[0]["user"], (kind, broken)


@FUZZ
@given(messages=st.lists(
    st.one_of(json_values,
              st.fixed_dictionaries({"type": st.just("takeover"), "id": json_values}),
              st.fixed_dictionaries({"type": st.just("takeover"), "id": st.text(max_size=120)}),
              st.fixed_dictionaries({"type": st.just("takeover"), "id": known_text},
                                    optional={"more": json_values})),
    min_size=1, max_size=10))
def test_fuzzed_channel_messages(page, site, messages):
    a_page_of_the_site(page, site)
    for message, read in zip(messages, page.evaluate(READ_MESSAGES, messages)):
        valid = (isinstance(message, dict) and set(message) == {"type", "id"}
                 and message["type"] == "takeover" and is_text(message["id"], 100, False))
        assert read == ({"type": "takeover", "id": message["id"]} if valid else None), message
