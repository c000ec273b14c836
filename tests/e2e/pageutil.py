"""Helpers the browser tests share (import as `from pageutil import ...`)."""

import json


def open_playground(page, site, query="", timeout=30_000):
    page.goto(site + query)
    page.wait_for_selector("[data-testid=status][data-state=ready]", timeout=timeout)


def wait_service_worker(page):
    """Wait until the site's service worker is active: on a first visit, once it has
    copied and checked the whole site."""
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")


def open_lessons(page, site, lesson="", timeout=60_000):
    """Open the lessons page (at `lesson`'s view) and wait until both its Pythons run."""
    page.goto(f"{site}lessons.html" + (f"#{lesson}" if lesson else ""))
    page.wait_for_selector("[data-testid=python-status][data-state=ready]", timeout=timeout)


def show_lesson(page, site, lesson):
    """Go to a lesson of the lessons page and wait until its view shows."""
    page.goto(f"{site}lessons.html#{lesson}")
    page.wait_for_selector(f"[data-view={lesson}]:not([hidden])")


def two_frames(page):
    """Wait until the page has drawn twice: what a change of layout made is on screen."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def wait_restored(page, timeout=30_000):
    """Wait until the playground's start-up restore is over; "run" if a saved run came
    back, "none" if there was none to restore (or it stayed in another tab)."""
    page.wait_for_selector("[data-testid=status][data-restored]", timeout=timeout)
    return page.get_attribute("[data-testid=status]", "data-restored")


def wait_saved(page, step, timeout=30_000):
    """Wait until the run is saved at `step` or later (the storage status says which step
    the last save holds). A paused run's save comes to rest at its step; a training one
    saves now and then, so no exact step is sure to be seen."""
    page.wait_for_function(
        "n => +document.querySelector('[data-testid=storage-status]').dataset.step >= n",
        arg=step, timeout=timeout,
    )


def state(page):
    return page.get_attribute("[data-testid=status]", "data-state")


def steps_done(page):
    return int(page.text_content("[data-testid=step-count]"))


def wait_steps(page, n, timeout=60_000):
    page.wait_for_function(
        "n => +document.querySelector('[data-testid=step-count]').textContent >= n",
        arg=n,
        timeout=timeout,
    )


def py_call(page, name, **args):
    """Call the page's Python bridge directly (for reading state the UI summarises)."""
    answer = page.evaluate(
        "([name, args]) => JSON.parse(window.tinygptCall(name, args))", [name, json.dumps(args)]
    )
    assert "ok" in answer, answer
    return answer["ok"]


def set_text(page, selector, text):
    """Set a big text like a paste would (Playwright's fill() stalls on large texts)."""
    page.eval_on_selector(
        selector,
        """(el, text) => { el.value = text;
            el.dispatchEvent(new Event('input', {bubbles: true}));
            el.dispatchEvent(new Event('change', {bubbles: true})); }""",
        text,
    )


def error_text(page):
    box = page.locator("[data-testid=error]")
    return box.text_content() if box.is_visible() else ""


def wait_error(page, words, timeout=10_000):
    """The error box's text once it says `words` (a new run's errors come a task or two
    after the click: the run is built in short tasks)."""
    page.wait_for_function(
        "w => { const box = document.querySelector('[data-testid=error]');"
        " return box && box.offsetParent !== null"
        " && box.textContent.toLowerCase().includes(w); }",
        arg=words.lower(), timeout=timeout,
    )
    return error_text(page)



def generate_names(page, timeout=60_000):
    """Press Generate and wait for the names: Python makes them a letter at a time in
    short tasks, so they arrive a moment after the click."""
    page.click("[data-testid=generate]")
    page.wait_for_selector("[data-testid=samples][data-state=done]", timeout=timeout)
    return page.locator("[data-testid=sample]").all_text_contents()


# The page's database read and written directly, as any script of the site could (a
# lesson cell, another tab): for planting records and checking what is stored.
_IDB = """async ([store, action, value]) => {
    const db = await new Promise((ok, no) => {
        const r = indexedDB.open('tinygpt'); r.onsuccess = () => ok(r.result); r.onerror = no; });
    try {
        const tx = db.transaction(store, action === 'put' ? 'readwrite' : 'readonly');
        const s = tx.objectStore(store);
        const q = action === 'put' ? s.put(value) : action === 'count' ? s.count() : s.getAll();
        return await new Promise((ok, no) => { q.onsuccess = () => ok(q.result); q.onerror = no; });
    } finally { db.close(); }
}"""


def idb_put(page, store, record):
    """Writes `record` into the page's database store `store` (as it is: no checks)."""
    page.evaluate(_IDB, [store, "put", record])


def idb_all(page, store):
    """Every record of the store `store`, as stored."""
    return page.evaluate(_IDB, [store, "all", None])


def idb_count(page, store):
    return page.evaluate(_IDB, [store, "count", None])
