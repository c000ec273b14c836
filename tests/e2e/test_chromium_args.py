"""The Chromium the browser tests drive keeps every feature switch Playwright sets: Chromium
reads only the last --disable-features, and browsing.CHROMIUM_ARGS passes one after
Playwright's (to stop the omnibox popup each page would preload)."""

from pathlib import Path

from browsing import CHROMIUM_ARGS


def browser_command_lines():
    """The command lines of the running Chromium browser processes started with our args
    (their renderers and helpers carry --type=)."""
    ours = next(a for a in CHROMIUM_ARGS if a.startswith("--disable-features="))
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().decode(errors="replace").split("\0")
        except OSError:  # a process that ended meanwhile
            continue
        if ours in args and not any(a.startswith("--type=") for a in args):
            found.append(args)
    return found


def test_the_last_disable_features_keeps_playwrights(browser):
    lines = browser_command_lines()
    assert lines, "no Chromium started with the tests' arguments is running"
    for args in lines:
        switches = [a.split("=", 1)[1].split(",") for a in args
                    if a.startswith("--disable-features=")]
        assert len(switches) >= 2, "Playwright no longer passes --disable-features: drop ours?"
        lost = set().union(*switches[:-1]) - set(switches[-1])
        assert not lost, f"features Playwright disables that ours would enable again: {lost}"
        assert "WebUIOmniboxPopup" in switches[-1]
