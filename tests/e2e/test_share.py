"""Sharing in real Chromium: names links and the name card, model links (exact and
compact), model files between the page and the CLI, and links and files from strangers
(truncated, damaged, oversized, wrong version or shape, hostile text)."""

import base64
import json
import struct
import subprocess
import sys
import zlib

import pytest
from browsing import DIST, ROOT
from pageutil import error_text, generate_names, open_playground, py_call, state

from tinygpt import compact
from tinygpt.session import Session

CLI_ENV = {"PYTHONPATH": str(ROOT / "py")}
FIRST_NAMES = (DIST / "data/first_names.txt").read_text().splitlines()
HOSTILE = '<img src=x onerror="window.__pwned=1">'


def cli(*args):
    done = subprocess.run([sys.executable, "-m", "tinygpt", *args], capture_output=True,
                          text=True, cwd=ROOT, env=CLI_ENV)
    assert done.returncode == 0, done.stderr
    return done.stdout


def train(page, site, query="?steps=60&seed=7"):
    open_playground(page, site, query)
    page.click("[data-testid=train-toggle]")
    page.wait_for_selector("[data-testid=status][data-state=done]", timeout=60_000)


def generate(page, seed, temperature, n=10):
    page.fill("#gen-n", str(n))
    page.fill("#gen-seed", str(seed))
    page.fill("[data-testid=temperature]", str(temperature))
    return generate_names(page)


def make_link(page, kind):
    page.locator("[data-testid=share-link]").evaluate("el => { el.value = '' }")
    page.click(f"[data-testid=share-{kind}]")
    page.wait_for_function(
        "kind => document.querySelector('[data-testid=share-link]').value.includes('#' + kind)",
        arg="names" if kind == "names" else "model=",
    )
    return page.input_value("[data-testid=share-link]")


def wait_opened(page):
    page.wait_for_function(
        "() => document.querySelector('[data-testid=share-status]').textContent.includes('Opened')",
        timeout=30_000,
    )


def fragment(kind, payload: bytes):
    """A link fragment as the page makes it: raw deflate, then base64url."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = packer.compress(payload) + packer.flush()
    return f"#{kind}=" + base64.urlsafe_b64encode(data).decode().rstrip("=")


def card(**changes):
    base = {"v": 1, "names": ["emma", "liam"], "dataset": "US first names",
            "config": {"n_embd": 16, "n_head": 4, "n_layer": 1, "block_size": 16},
            "params": 4192, "steps": 100, "loss": 2.5, "temperature": 0.5}
    return json.dumps({**base, **changes}).encode()


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


# --- names ------------------------------------------------------------------------------------


def test_names_link_opens_the_same_names_on_a_card(page, empty_storage_page, site, screenshots):
    train(page, site, "?steps=300&seed=7")
    names = generate(page, seed=5, temperature=0.6)
    link = make_link(page, "names")
    assert "#names=" in link
    info = page.text_content("[data-testid=share-link-info]")
    assert f"{len(link):,} characters" in info
    params = py_call(page, "info")["params"]

    fresh = empty_storage_page()  # someone the link was sent to
    fresh.goto(link)
    fresh.wait_for_selector("[data-testid=name-card]")
    assert fresh.locator("[data-testid=card-name]").all_text_contents() == names
    facts = fresh.text_content("[data-testid=card-facts]")
    assert "US first names" in facts and f"{params:,} parameters" in facts
    assert "300" in facts and "Loss" in facts
    assert fresh.is_hidden("#playground")
    fresh.screenshot(path=str(screenshots / "name-card.png"), full_page=True)
    # Save as image: a PNG card, downloaded.
    with fresh.expect_download() as download:
        fresh.click("[data-testid=card-save-image]")
    image = screenshots / "name-card-image.png"
    download.value.save_as(image)
    assert png_size(image.read_bytes()) == (1200, 630)
    # "Train your own" goes to the playground, without the link.
    fresh.click("[data-testid=train-your-own]")
    assert fresh.is_hidden("[data-testid=name-card]")
    fresh.wait_for_selector("[data-testid=status][data-state=ready]", timeout=30_000)
    assert "#" not in fresh.url
    fresh.watch.assert_clean()


def test_names_link_offers_the_system_share_sheet_where_there_is_one(page, site):
    page.add_init_script("navigator.share = (data) => { window.__shared = data; "
                         "return Promise.resolve(); };")
    train(page, site, "?steps=20")
    generate(page, seed=1, temperature=0.5, n=3)
    link = make_link(page, "names")
    assert page.is_visible("[data-testid=system-share]")
    page.click("[data-testid=system-share]")
    assert page.evaluate("window.__shared.url") == link


def test_share_names_before_generating_explains_what_to_do(page, site):
    train(page, site, "?steps=10")
    page.click("[data-testid=share-names]")
    assert "generate some names first" in error_text(page).lower()


def test_names_with_html_and_script_render_as_text(page, site, screenshots):
    names = [HOSTILE, "<script>window.__pwned=1</script>", "emma & <b>liam</b>"]
    page.goto(site + fragment("names", card(names=names, dataset="<b>bold</b>" + HOSTILE[:20])))
    page.wait_for_selector("[data-testid=name-card]")
    assert page.locator("[data-testid=card-name]").all_text_contents() == names
    view = "#name-card-view"
    assert page.locator(f"{view} img, {view} script, {view} b").count() == 0
    assert "<b>bold</b>" in page.text_content("[data-testid=card-facts]")
    with page.expect_download():
        page.click("[data-testid=card-save-image]")  # drawn as text on the canvas too
    assert page.evaluate("window.__pwned") is None


def test_name_card_fits_a_phone_even_with_a_very_long_name(page, site):
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(site + fragment("names", card(names=["x" * 256, "emma", "y" * 40])))
    page.wait_for_selector("[data-testid=name-card]")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the card is {overflow}px wider than the phone"
    page.focus("[data-testid=train-your-own]")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=status][data-state=ready]", timeout=30_000)


# --- models -----------------------------------------------------------------------------------


def test_model_link_generates_the_same_names_in_a_fresh_page(page, empty_storage_page, site,
                                                             screenshots):
    train(page, site, "?steps=80&seed=3")
    original = generate(page, seed=9, temperature=0.8)
    compact_link = make_link(page, "model")
    compact_info = page.text_content("[data-testid=share-link-info]")
    page.check("[data-testid=share-exact]")
    exact_link = make_link(page, "model")
    assert "Exact 64-bit weights" in page.text_content("[data-testid=share-link-info]")
    assert f"{len(exact_link):,} characters" in page.text_content("[data-testid=share-link-info]")
    page.screenshot(path=str(screenshots / "share.png"), full_page=True)
    # The compact link is much shorter and says what rounding cost.
    assert "16-bit" in compact_info or "32-bit" in compact_info, compact_info
    assert len(compact_link) < len(exact_link) / 2
    print(f"model link: exact {len(exact_link):,} chars, compact {len(compact_link):,} chars")
    weights = py_call(page, "model_file")["state_dict"]
    sample_text = "\n".join(FIRST_NAMES[:300])
    page_loss = py_call(page, "evaluate_text", text=sample_text)["loss"]

    for link, exact in ((exact_link, True), (compact_link, False)):
        # Nothing shared but the link: the pages before it closed, the site's storage emptied
        # (a first visit opens a link in test_names_link_opens_the_same_names_on_a_card).
        fresh = empty_storage_page()
        fresh.goto(link)
        wait_opened(fresh)
        assert state(fresh) == "done"  # ready to generate, no training
        assert fresh.is_disabled("[data-testid=train-toggle]")
        info = py_call(fresh, "info")
        assert info["trainable"] is False and info["meta"]["dataset"] == "US first names"
        if exact:
            assert py_call(fresh, "model_file")["state_dict"] == weights
            # The sharer's seed and temperature come with the link.
            assert fresh.input_value("#gen-seed") == "9"
            assert generate(fresh, seed=9, temperature=0.8) == original
        else:
            loss = py_call(fresh, "evaluate_text", text=sample_text)["loss"]
            print(f"compact link: loss {page_loss:.5f} -> {loss:.5f} on 300 names")
            assert abs(loss - page_loss) < 0.01
        fresh.watch.assert_clean()


def test_downloaded_model_file_gives_the_cli_the_same_loss(page, site, tmp_path):
    train(page, site, "?steps=60&seed=11")
    with page.expect_download() as download:
        page.click("[data-testid=download-model]")
    model = tmp_path / "page-model.json"
    download.value.save_as(model)
    assert download.value.suggested_filename.endswith(".json")
    data = tmp_path / "names.txt"
    data.write_text("\n".join(FIRST_NAMES[1000:1200]) + "\n")
    cli_answer = json.loads(cli("eval", "--model", str(model), "--data", str(data)))
    page_answer = py_call(page, "evaluate_text", text=data.read_text())
    assert cli_answer["docs"] == page_answer["docs"] == 200
    assert abs(cli_answer["loss"] - page_answer["loss"]) < 1e-12
    # The file is the model the page holds, weight for weight.
    assert json.loads(model.read_text())["state_dict"] == py_call(page, "model_file")["state_dict"]
    assert len(cli("sample", "--model", str(model), "--n", "5").split()) == 5


def test_cli_model_file_opens_in_the_page_with_the_same_names(page, site, tmp_path):
    data, model = tmp_path / "names.txt", tmp_path / "cli-model.json"
    data.write_text("\n".join(FIRST_NAMES[:500]) + "\n")
    cli("train", "--data", str(data), "--steps", "40", "--seed", "4", "--n-embd", "8",
        "--n-head", "2", "--out", str(model))
    expected = cli("sample", "--model", str(model), "--n", "12", "--temperature", "0.7",
                   "--seed", "21").splitlines()
    open_playground(page, site)
    page.set_input_files("[data-testid=open-model-file]", str(model))
    wait_opened(page)
    assert "cli-model.json" in page.text_content("[data-testid=share-status]")
    shown = [name or "(empty)" for name in expected]  # how the page lists an empty name
    assert generate(page, seed=21, temperature=0.7, n=12) == shown


# --- links and files from strangers -------------------------------------------------------------


def tiny_session():
    """A three-step model on three names: small, valid, quick to make."""
    session = Session()
    session.new_run("anna\nbob\ncarl\n", {"n_embd": 4, "n_head": 1, "block_size": 4, "steps": 3})
    session.train_for(10_000)
    return session


def tiny_model_bytes(bits=64):
    return compact.pack(tiny_session().model, {"dataset": "tiny"}, bits)


def patched(data, **header_changes):
    (length,) = struct.unpack_from("<I", data, 6)
    header = {**json.loads(data[10 : 10 + length]), **header_changes}
    head = json.dumps(header).encode()
    return data[:6] + struct.pack("<I", len(head)) + head + data[10 + length :]


def halve(link):
    """The first half of a link, cut on a whole base64 group: valid text, truncated data."""
    kind, data = link.split("=", 1)
    return f"{kind}={data[: len(data) // 8 * 4]}"


def hostile_links():
    good = tiny_model_bytes()
    half16 = tiny_model_bytes(bits=16)
    good_names = fragment("names", card())
    return [
        (halve(good_names), "cannot be unpacked"),
        ("#names=@@@!!", "never has"),
        ("#names=" + "A" * 5, "cut short"),
        (fragment("names", b"")[:-3] + "_x-", "cannot be unpacked"),
        ("#names=" + base64.urlsafe_b64encode(b"\xff\x00junk" * 20).decode().rstrip("="),
         "cannot be unpacked"),
        (fragment("names", b" " * 200_000), "limit"),
        (fragment("names", b"{not json"), "not valid JSON"),
        (fragment("names", card(v=2)), "another version"),
        (fragment("names", card(names=["ab\u0007c"])), "control character U+0007"),
        (fragment("names", card(names=["ok", "\u202eevil"])), "control character U+202E"),
        (fragment("names", card(names=["x" * 10_000])), "10,000 characters long"),
        (fragment("names", card(names=[f"n{i}" for i in range(500)])), "500 names"),
        (fragment("names", card(names="emma")), "holds no names"),
        (fragment("names", card(loss="2.5")), "not a finite number"),
        (fragment("names", card(loss=float("inf")).replace(b"Infinity", b"1e999")),
         "not a finite number"),
        ("#names=", "empty"),
        ("#model=" + "A" * 2_000_001, "the limit is 2,000,000"),
        (halve(fragment("model", good)), "cannot be unpacked"),
        (fragment("model", good[: len(good) // 2]), "truncated"),
        (fragment("model", b"hello world, not a model"), "not a TinyGPT model link"),
        (fragment("model", b"\x00" * 17_000_000), "too big for this page"),
        (fragment("model", good[:4] + b"\x09" + good[5:]), "version 9"),
        (fragment("model", patched(good, config={"n_embd": 8, "n_head": 1, "n_layer": 1,
                                                 "block_size": 4})), "truncated or damaged"),
        (fragment("model", patched(good, chars=sorted(set("annabobcarl"))[::-1])), "sorted"),
        (fragment("model", half16[:-2] + b"\x00\x7c"), "not a finite number"),
        (fragment("model", half16[:-2] + b"\x00\x7e"), "not a finite number"),
    ]


def hostile_files():
    model = tiny_session().model_file()
    wrong_shape = json.loads(json.dumps(model))
    wrong_shape["state_dict"]["wte"] = wrong_shape["state_dict"]["wte"][:-1]
    nan = json.dumps(model).replace(str(model["state_dict"]["wpe"][0][0]), "NaN", 1)
    return [
        ("truncated.json", json.dumps(model)[:500].encode(), "not valid JSON"),
        ("picture.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "not valid JSON"),
        ("other.json", json.dumps({"format": "keras", "version": 1}).encode(),
         "not a TinyGPT model file"),
        ("future.json", json.dumps({**model, "version": 2}).encode(), "version 2"),
        ("shape.json", json.dumps(wrong_shape).encode(), "wrong shape"),
        ("nan.json", nan.encode(), "not a finite number"),
        ("inf.json", nan.replace("NaN", "1e999").encode(), "not a finite number"),
        ("vocab.json", json.dumps({**model, "chars": ["<b>", "a"]}).encode(), "single"),
        (HOSTILE + ".json", b"{", "not valid JSON"),
    ]


def run_snapshot(page):
    info = py_call(page, "info")
    return info["step"], info["losses"], info["trainable"]


def dismiss_error(page):
    page.click("[data-testid=error] .dismiss")
    assert error_text(page) == ""


def test_hostile_links_and_files_are_refused_and_the_run_is_untouched(page, site):
    train(page, site, "?steps=25&seed=2")
    before = run_snapshot(page)
    assert before[0] == 25
    for link, message in hostile_links():
        page.evaluate("hash => { location.hash = hash }", link)
        page.wait_for_selector("[data-testid=error]", state="visible", timeout=20_000)
        text = error_text(page)
        assert "cannot be opened" in text and message in text, (link[:80], text)
        assert "Nothing on this page was changed" in text
        assert run_snapshot(page) == before
        assert state(page) == "done"
        dismiss_error(page)
    for name, content, message in hostile_files():
        page.set_input_files("[data-testid=open-model-file]",
                             files=[{"name": name, "mimeType": "application/json",
                                     "buffer": content}])
        page.wait_for_selector("[data-testid=error]", state="visible", timeout=20_000)
        text = error_text(page)
        assert "cannot be opened" in text and message in text, (name, text)
        assert run_snapshot(page) == before
        dismiss_error(page)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("main img").count() == 0


def test_oversized_model_file_states_the_limit(page, site):
    train(page, site, "?steps=5")
    before = run_snapshot(page)
    # Made in the page (sending 50 MB through Playwright takes half a minute).
    page.eval_on_selector("[data-testid=open-model-file]", """input => {
        const files = new DataTransfer();
        files.items.add(new File([new Uint8Array(50_000_001)], "huge.json"));
        input.files = files.files;
        input.dispatchEvent(new Event("change", {bubbles: true}));
    }""")
    page.wait_for_selector("[data-testid=error]", state="visible")
    assert "up to 9.6 MB" in error_text(page) and "150,000 parameters" in error_text(page)
    assert run_snapshot(page) == before


def test_a_broken_link_on_a_fresh_page_leaves_a_working_playground(page, site):
    page.goto(site + "#model=not-a-real-model-link")
    page.wait_for_selector("[data-testid=error]", state="visible", timeout=30_000)
    assert "model link cannot be opened" in error_text(page)
    assert state(page) == "ready"
    assert "#" not in page.url  # a reload will not meet it again
    page.fill("#set-steps", "5")
    page.click("[data-testid=train-toggle]")
    page.wait_for_selector("[data-testid=status][data-state=done]")


@pytest.mark.parametrize("kind", ["names", "model"])
def test_a_model_meta_with_html_renders_as_text(page, site, kind):
    model_bytes = compact.pack(tiny_session().model, {"dataset": HOSTILE, "steps": 3}, 64)
    open_playground(page, site)
    page.evaluate("hash => { location.hash = hash }", fragment("model", model_bytes))
    wait_opened(page)
    assert HOSTILE in page.text_content("[data-testid=share-status]")
    generate_names(page)
    if kind == "names":  # and a names link made from it carries the text, as text
        link = make_link(page, "names")
        page.goto(link)
        page.wait_for_selector("[data-testid=name-card]")
        assert HOSTILE[:40] in page.text_content("[data-testid=card-facts]")
    assert page.locator("img").count() == 0
    assert page.evaluate("window.__pwned") is None
