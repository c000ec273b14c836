"""Nothing lost, nothing frozen, in real Chromium: reloads at any moment, two tabs, saved
runs that cannot be restored, a newer page beside an older tab, links made to break or
freeze the page, and a lesson cell that reaches for the site's storage."""

import base64
import json
import struct
import sys
import unicodedata
import zlib

import pytest
from longtasks import assert_no_freeze, assert_no_long_tasks, start_long_task_check
from pageutil import (
    error_text,
    generate_names,
    idb_all,
    idb_count,
    idb_put,
    open_lessons,
    open_playground,
    py_call,
    state,
    steps_done,
    wait_error,
    wait_restored,
    wait_saved,
    wait_steps,
)
from test_share import card, fragment, tiny_session

from tinygpt.data import hidden_character
from tinygpt.model import Config, param_shapes


def reopen(page, expect="paused"):
    page.reload()
    page.wait_for_selector(f"[data-testid=status][data-state={expect}]", timeout=60_000)


def train_until(page, n):
    page.click("[data-testid=train-toggle]")
    wait_steps(page, n)


def pause(page):
    page.click("[data-testid=train-toggle]")
    page.wait_for_selector("[data-testid=status][data-state=paused]")
    return steps_done(page)


# --- reloads -----------------------------------------------------------------------------
def test_a_reload_right_after_pause_restores_exactly_the_paused_step(page, site):
    open_playground(page, site, "?steps=3000&seed=3")
    train_until(page, 150)
    paused = pause(page)
    losses = py_call(page, "info")["losses"]
    wait_saved(page, paused)  # saved within a moment of the click
    reopen(page)
    assert steps_done(page) == paused
    assert py_call(page, "info")["losses"] == losses  # the loss curve too, bit for bit


def test_a_reload_mid_training_loses_at_most_about_a_second(page, site):
    open_playground(page, site, "?steps=20000&seed=4")
    train_until(page, 400)
    # Reload at a moment that is no save point, without waiting for anything.
    at, per_second = page.evaluate("""() => [
        +document.querySelector('[data-testid=step-count]').textContent,
        +document.querySelector('[data-testid=steps-per-second]').textContent]""")
    reopen(page)
    restored = steps_done(page)
    print(f"reloaded at step {at} ({per_second} steps/s), restored step {restored}")
    assert at - restored <= max(1.5 * per_second, 40)
    assert py_call(page, "info")["step"] == restored


def test_a_reload_right_after_new_run_has_no_run(page, site):
    open_playground(page, site, "?steps=3000")
    train_until(page, 100)
    page.click("[data-testid=reset]")
    page.click("[data-testid=reset]")
    assert state(page) == "ready"
    reopen(page, "ready")
    assert wait_restored(page) == "none"
    assert state(page) == "ready" and steps_done(page) == 0 and py_call(page, "info") is None


# --- two tabs ------------------------------------------------------------------------------
def test_two_tabs_never_share_or_delete_each_others_run(page, site):
    a = page
    open_playground(a, site, "?steps=300&seed=5")
    a.click("[data-testid=train-toggle]")
    a.wait_for_selector("[data-testid=status][data-state=done]", timeout=60_000)
    wait_saved(a, 300)
    losses = py_call(a, "info")["losses"]

    b = a.context.new_page()
    open_playground(b, site, "?steps=200&seed=9")
    b.wait_for_selector("[data-testid=open-elsewhere]", state="visible", timeout=15_000)
    assert "open in another tab" in b.text_content("[data-testid=open-elsewhere]")
    assert py_call(b, "info") is None  # B shows no copy of A's run
    # B's own run: a new id; its New run deletes only B's run.
    b.click("[data-testid=train-toggle]")
    b.wait_for_selector("[data-testid=status][data-state=done]", timeout=60_000)
    b.click("[data-testid=reset]")
    b.click("[data-testid=reset]")
    b.close()

    reopen(a, "done")  # A's run is still there, whole
    assert py_call(a, "info")["losses"] == losses


def test_a_tab_can_take_over_the_run_open_in_another(page, site):
    a = page
    open_playground(a, site, "?steps=5000&seed=6")
    train_until(a, 200)  # A is training when B asks for the run
    b = a.context.new_page()
    open_playground(b, site)
    b.wait_for_selector("[data-testid=take-over]", state="visible", timeout=15_000)
    b.click("[data-testid=take-over]")
    b.wait_for_selector("[data-testid=status][data-state=paused]", timeout=30_000)
    # A stopped, saved and let go; B continues from exactly where A stopped.
    a.wait_for_selector("[data-testid=open-elsewhere]", state="visible", timeout=15_000)
    assert py_call(a, "info") is None and state(a) == "ready"
    taken = py_call(b, "info")
    assert taken["step"] >= 200 and len(taken["losses"]) == taken["step"]


# --- forged take-overs: another page of the site posting on the tabs' channel ------------------
# What a lesson cell or any other script of this origin can do: find the run's id (its lock
# name, or the database) and post on the channel the tabs use.
RUN_HELD = """async () => {
    const { held } = await navigator.locks.query();
    const lock = held.find((l) => l.name.startsWith('tinygpt-run-'));
    return lock ? lock.name.slice('tinygpt-run-'.length) : null;
}"""

FORGE = """([id, withLock]) => {
    const channel = new BroadcastChannel('tinygpt-runs');
    if (withLock) {  // ask for the run's lock too, and keep it until window.letGo()
        window.gotLock = false;
        navigator.locks.request('tinygpt-run-' + id, () => new Promise((done) => {
            window.gotLock = true; window.letGo = done; }));
    }
    const messages = withLock ? [{type: 'takeover', id}] : [
        {type: 'takeover', id}, null, 'takeover', 42, [id], {type: 'takeover'},
        {type: 'takeover', id, also: 'more'}, {type: 'takeover', id: [id]},
        {type: 'takeover', id: 'x'.repeat(1_000_000)}, {type: 'TAKEOVER', id},
        {type: 'takeover', id: {toString: null}}, {type: 'takeover', id: 7},
    ];
    for (const message of messages) channel.postMessage(message);
    channel.close();
}"""


def training_and_a_forger(context, a, site):
    """Tab `a` training a run, and another page of the site (not the playground) that has
    found the run's id: (that page, the id)."""
    open_playground(a, site, "?steps=20000&seed=7")
    train_until(a, 100)
    other = context.new_page()
    other.goto(site + "data/datasets.json")
    run_id = other.evaluate(RUN_HELD)
    assert run_id
    return other, run_id


def test_forged_take_over_messages_stop_no_run(page, site):
    a = page
    other, run_id = training_and_a_forger(a.context, a, site)
    other.evaluate(FORGE, [run_id, False])
    before = steps_done(a)
    a.wait_for_timeout(2500)  # longer than a tab looks for a waiting tab (1.5 s)
    assert state(a) == "training" and steps_done(a) > before
    assert not a.locator("[data-testid=open-elsewhere]").is_visible()
    assert error_text(a) == ""
    assert other.evaluate(RUN_HELD) == run_id  # A still holds its run


def test_a_take_over_by_a_page_that_takes_the_lock_is_said_loudly_and_can_be_undone(page, site):
    a = page
    other, run_id = training_and_a_forger(a.context, a, site)
    other.evaluate(FORGE, [run_id, True])  # waits for the lock: this take-over is honoured
    other.wait_for_function("() => window.gotLock === true", timeout=15_000)
    # A says so where the reader looks, and the run is saved where A stopped.
    assert "went to another TinyGPT tab" in wait_error(a, "went to another")
    a.wait_for_selector("[data-testid=open-elsewhere]", state="visible")
    assert state(a) == "ready"
    saved = [r for r in idb_all(a, "runs") if r["id"] == run_id]
    assert len(saved) == 1 and saved[0]["step"] >= 100
    # Taking it back: the holder does not answer, A says so and waits; once the holder
    # lets go, the run comes back at the step it was saved at.
    a.click("[data-testid=take-over]")
    a.wait_for_function(
        "() => document.querySelector('#open-elsewhere-text').textContent"
        ".includes('does not let')",
        timeout=15_000)
    other.evaluate("window.letGo()")
    a.wait_for_selector("[data-testid=status][data-state=paused]", timeout=30_000)
    assert steps_done(a) == saved[0]["step"] == py_call(a, "info")["step"]
    train_until(a, saved[0]["step"] + 20)  # and it trains on


# --- a saved run that cannot be restored -----------------------------------------------------
@pytest.mark.parametrize("damage", ["newer version", "damaged random state", "no state",
                                    "not an object"])
def test_a_run_that_cannot_be_restored_is_kept_aside_never_deleted(page, site, damage):
    open_playground(page, site, "?steps=300")
    train_until(page, 50)
    pause(page)
    wait_saved(page, steps_done(page))
    state_ = py_call(page, "run_state")
    record = {"id": "damaged-run", "savedAt": 4e12, "step": 5, "steps": 300, "state": state_}
    if damage == "newer version":
        record["state"]["version"] = 99
    elif damage == "damaged random state":
        record["state"]["rng"][1][0] = 10**30
    elif damage == "no state":
        del record["state"]
        del record["step"]
    else:
        record["state"] = "garbage"
    idb_put(page, "runs", record)
    page.reload()
    page.wait_for_selector("[data-testid=kept-aside-run]", timeout=60_000)
    assert "could not be restored" in error_text(page) and "kept aside" in error_text(page)
    assert "Something went wrong" not in error_text(page)
    assert idb_count(page, "keptAside") == 1
    # It can be downloaded as it was.
    with page.expect_download() as download:
        page.locator("[data-testid=kept-aside-run] button", has_text="Download").click()
    kept = json.loads(open(download.value.path()).read())
    assert kept["id"] == "damaged-run"
    # The page still works, and the next load does not meet the damaged run again.
    page.click("[data-testid=train-toggle]") if state(page) != "paused" else None
    page.reload()
    page.wait_for_selector("[data-testid=status]:not([data-state=loading])", timeout=60_000)
    assert "could not be restored" not in error_text(page)


# --- a newer page and an older tab --------------------------------------------------------------
def test_an_older_tab_holding_the_database_is_named_and_saving_resumes(page, site):
    # An "older TinyGPT" tab: the database at version 1, held open, deaf to upgrades.
    old = page.context.new_page()
    old.goto(site + "data/datasets.json")
    old.evaluate("""() => new Promise((ok) => {
        const r = indexedDB.open('tinygpt', 1);
        r.onupgradeneeded = () => r.result.createObjectStore('runs');
        r.onsuccess = () => { window.held = r.result; ok(); }; })""")
    open_playground(page, site, "?steps=3000")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=storage-status]').textContent"
        ".includes('older TinyGPT tab')", timeout=30_000)
    old.close()  # the older tab goes: the upgrade goes ahead and saving works
    page.click("[data-testid=train-toggle]")
    wait_steps(page, 100)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=storage-status]').dataset.state"
        " === 'saved'",
        timeout=30_000)


def test_a_newer_page_elsewhere_is_named_when_saving_fails(page, site):
    open_playground(page, site, "?steps=5000")
    train_until(page, 50)
    # A newer TinyGPT (database version 3) opens in another tab of this browser.
    other = page.context.new_page()
    other.goto(site + "data/datasets.json")
    other.evaluate("""() => new Promise((ok) => {
        const r = indexedDB.open('tinygpt', 3); r.onsuccess = () => { r.result.close(); ok(); };
        r.onupgradeneeded = () => {}; })""")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=storage-status]').textContent"
        ".includes('newer version of TinyGPT')", timeout=30_000)
    assert state(page) == "training"  # training goes on in memory


# --- links made to break or freeze the page -----------------------------------------------------
def model_link(site, data):
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = compressor.compress(data) + compressor.flush()
    return site + "#model=" + base64.urlsafe_b64encode(packed).decode().rstrip("=")


def link_bytes(config, chars, weights_bits=16, header=None):
    header = header or json.dumps({"config": config, "chars": chars, "meta": {}}).encode()
    count = sum(r * c for _, r, c in param_shapes(Config(**config), len(chars) + 1))
    return (struct.pack("<4sBBI", b"TGPT", 1, weights_bits, len(header)) + header
            + bytes(count * weights_bits // 8))


def test_a_deeply_nested_link_is_refused_and_python_keeps_working(page, site):
    header = b"[" * 19_000  # under the 20 KB header limit
    data = struct.pack("<4sBBI", b"TGPT", 1, 16, len(header)) + header
    link = model_link(site, data)
    print(f"deep-nesting link: {len(link) - len(site)} characters")
    open_playground(page, site)
    page.evaluate("hash => { location.hash = hash }", link[len(site):])
    page.wait_for_function("() => document.querySelector('[data-testid=error]').textContent"
                           ".includes('cannot be opened')", timeout=30_000)
    assert "nests more than" in error_text(page)
    assert "Something went wrong" not in error_text(page)
    page.click("[data-testid=train-toggle]")  # Python is fine
    wait_steps(page, 20)


@pytest.mark.timed
def test_a_small_link_with_a_huge_model_is_refused_at_once(page, site):
    chars = [chr(97 + i) for i in range(26)]
    data = link_bytes({"n_embd": 256, "n_head": 4, "n_layer": 8, "block_size": 256}, chars)
    link = model_link(site, data)
    print(f"huge-model link: {len(link) - len(site)} characters for {len(data):,} bytes")
    open_playground(page, site)
    start_long_task_check(page)
    page.evaluate("hash => { location.hash = hash }", link[len(site):])
    page.wait_for_function("() => document.querySelector('[data-testid=error]').textContent"
                           ".includes('too big for this page')", timeout=60_000)
    assert "150,000 parameters" in error_text(page)
    assert state(page) == "ready"
    assert_no_long_tasks(page, "refusing a huge model")


@pytest.mark.timed
def test_the_biggest_model_the_page_runs_loads_and_generates_without_freezing(page, site):
    chars = [chr(97 + i) for i in range(26)]
    config = {"n_embd": 64, "n_head": 4, "n_layer": 2, "block_size": 64}  # ~106k parameters
    open_playground(page, site)
    start_long_task_check(page)
    page.evaluate("hash => { location.hash = hash }", model_link(site, link_bytes(config, chars))[
        len(site):])
    page.wait_for_selector("[data-testid=status][data-state=done]", timeout=60_000)
    assert py_call(page, "info")["params"] > 100_000
    # Generating (uniform letters: long names) runs in short tasks, and Stop stops it:
    # 100 names, so that they cannot all be done before the click.
    page.fill("#gen-n", "100")
    page.click("[data-testid=generate]")
    page.wait_for_selector("[data-testid=stop-generate]", state="visible")
    page.click("[data-testid=stop-generate]")
    assert page.get_attribute("[data-testid=samples]", "data-state") == "stopped"
    page.fill("#gen-n", "3")
    names = generate_names(page)
    assert len(names) == 3
    for _ in range(20):  # Next letter: one position of work per letter
        page.click("[data-testid=next-letter]")
    # Opening a model this big is one Python call (about 40 ms on the 2-core test machine,
    # and the first generating piece compiles its kernels): a short pause, not a freeze.
    # Training and generating in a model the page builds have no long tasks but a stray
    # one (test_page.py, longtasks.assert_no_long_tasks).
    assert_no_freeze(page, "while loading or generating")


# --- a lesson cell reaching for the site's storage ----------------------------------------------
PLANT = '''
import asyncio, js

async def done(request):
    while request.readyState != "done":
        await asyncio.sleep(0.05)
    return request.result

async def plant():
    for name in await js.caches.keys():
        root = name.split(" ")[1]  # the cache's name: "tinygpt <the site's root> <version>"
        cache = await js.caches.open(name)
        for path in ("", "index.html"):
            await cache.put(root + path, js.Response.new("<h1>planted</h1>"))
    db = await done(js.indexedDB.open("tinygpt"))
    keys = await done(db.transaction("runs").objectStore("runs").getAllKeys())
    runs = db.transaction("runs", "readwrite").objectStore("runs")
    for key in keys:
        runs.put(js.JSON.parse('{"id": "%s", "state": {"format": 1}}' % key))

asyncio.ensure_future(plant())
'''


def test_a_lesson_cell_cannot_plant_a_page_or_lose_a_run(page, site):
    open_playground(page, site, "?steps=300")
    train_until(page, 40)
    pause(page)
    wait_saved(page, steps_done(page))
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=30_000)
    open_lessons(page, site, "tokens")
    box = page.locator("[data-view=tokens] [data-testid=code-cell]").first
    box.evaluate("(el, code) => el.editor.dispatch({changes: {from: 0, "
                 "to: el.editor.state.doc.length, insert: code}})", PLANT)
    box.locator("[data-testid=run]").click()
    # The attack landed: the cached page and the saved run are overwritten. (Polled from
    # Python: wait_for_function takes a promise for a truthy answer.)
    landed = """async () => {
        const db = await new Promise((ok) => { const r = indexedDB.open('tinygpt');
            r.onsuccess = () => ok(r.result); });
        const runs = await new Promise((ok) => {
            const q = db.transaction('runs').objectStore('runs').getAll();
            q.onsuccess = () => ok(q.result); });
        db.close();
        const cached = await caches.match(location.href.split('lessons.html')[0]);
        return runs.length === 1 && runs[0].state.format === 1
               && !!cached && (await cached.text()).includes('planted');
    }"""
    for _ in range(60):
        if page.evaluate(landed):
            break
        page.wait_for_timeout(500)
    assert page.evaluate(landed), "the planted page and run did not land"
    page.goto(site)
    page.wait_for_selector("[data-testid=status]:not([data-state=loading])", timeout=60_000)
    assert "planted" not in page.content()  # the service worker checked what it served
    # The overwritten run is kept aside with a message, not lost and not a crash.
    page.wait_for_selector("[data-testid=kept-aside-run]", timeout=30_000)
    assert "could not be restored" in error_text(page)


# --- one rule for people's text, in Python and in JavaScript ------------------------------------
def test_javascript_applies_pythons_rule_for_hidden_characters(page, site):
    open_playground(page, site)
    flagged = set(page.evaluate("""async () => {
        const { hiddenCharacter } = await import('./app/letters.js');
        const found = [];
        for (let cp = 0; cp <= 0x10ffff; cp++) {
            if (hiddenCharacter(String.fromCodePoint(cp)) !== null) found.push(cp);
        }
        return found;
    }"""))
    # Characters this CPython's Unicode database (an older version than the browser's,
    # maybe) does not know are left out: the two may disagree only on those.
    known = [cp for cp in range(sys.maxunicode + 1)
             if unicodedata.category(chr(cp)) != "Cn"]
    differ = [hex(cp) for cp in known if (hidden_character(chr(cp)) is not None) != (cp in flagged)]
    assert differ == []
    assert 0x200C not in flagged and 0x200D not in flagged and 0x202E in flagged


def test_a_name_card_takes_the_joiners_names_use_and_refuses_bidi_controls(page, site):
    page.goto(site + fragment("names", card(names=["ali\u200creza", "👩\u200d💻"])))
    page.wait_for_selector("[data-testid=card-name]")
    assert page.locator("[data-testid=card-name]").all_text_contents() == [
        "ali\u200creza", "👩\u200d💻"]
    page.goto(site + "?steps=5")
    page.wait_for_selector("[data-testid=status][data-state=ready]", timeout=60_000)
    page.evaluate("hash => { location.hash = hash }",
                  fragment("names", card(names=["abc\u202egpj.exe"])))
    page.wait_for_function("() => document.querySelector('[data-testid=error]').textContent"
                           ".includes('U+202E')", timeout=20_000)


def test_upload_problems_are_messages_not_bugs(page, site):
    open_playground(page, site)
    page.click("#custom-data summary")
    for name, content, message in (("names.bin", b"ab\x00cd", "looks binary"),
                                   ("latin1.txt", "jürgen\n".encode("latin-1"), "not UTF-8")):
        page.set_input_files("#dataset-file", files=[{"name": name, "mimeType": "text/plain",
                                                      "buffer": content}])
        page.wait_for_function("() => document.querySelector('[data-testid=error]').textContent"
                               f".includes({json.dumps(message)})", timeout=20_000)
        assert "Something went wrong" not in error_text(page)
        assert page.locator("[data-testid=error] details").count() == 0  # no stack trace


def test_a_vocabulary_with_a_lone_surrogate_is_refused_when_opened(page, site):
    model = tiny_session().model_file()
    text = json.dumps({**model, "chars": [*model["chars"][:-1], "\ud800"]})  # escaped: \ud800
    open_playground(page, site)
    page.set_input_files("[data-testid=open-model-file]", files=[
        {"name": "odd.json", "mimeType": "application/json", "buffer": text.encode()}])
    page.wait_for_function("() => document.querySelector('[data-testid=error]').textContent"
                           ".includes('cannot be opened')", timeout=20_000)
    assert "Something went wrong" not in error_text(page) and "U+D800" in error_text(page)
