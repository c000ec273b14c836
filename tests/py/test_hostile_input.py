"""Input made to break the page, by example: deep nesting, huge models in small links,
hidden characters, damaged saved runs, and the paths that open models and generate
names in short pieces. (test_fuzz.py throws random input at the same doors.)"""

import base64
import json
import struct

import pytest
from helpers import FEW, TINY, page_parts, positions_fed, tinygpt

from tinygpt import checkpoint, compact, jsonio
from tinygpt.data import hidden_character, parse_documents
from tinygpt.errors import TinyGPTError
from tinygpt.generate import Letters
from tinygpt.model import Config, param_shapes
from tinygpt.session import Session, limits
from tinygpt.trainer import Trainer

SMALL = {**TINY, "steps": 40}


# --- deep nesting ------------------------------------------------------------------------
DEEP = "[" * 20_000 + "]" * 20_000


def test_deep_nesting_is_refused_before_parsing():
    with pytest.raises(TinyGPTError, match="nests more than"):
        jsonio.loads(DEEP, "The link")
    # What our formats nest is fine, and brackets inside strings do not count.
    assert jsonio.loads('{"a": [[1, 2], [3]], "b": "' + "[" * 100 + '"}')["a"] == [[1, 2], [3]]
    assert jsonio.nesting_depth('{"a": {"b": [[["x"]]]}}') == 5
    assert jsonio.nesting_depth('["\\"[[[[[[", 1]') == 1


@pytest.mark.parametrize("where", ["model file", "link header", "saved run", "call"])
def test_every_door_refuses_deep_nesting(where):
    if where == "model file":
        with pytest.raises(TinyGPTError, match="nests"):
            checkpoint.loads('{"format": "tinygpt-model", "meta": ' + DEEP + "}")
    elif where == "link header":
        header = ('{"config": ' + "[" * 9000 + "]" * 9000 + "}").encode()  # within 20 KB
        data = struct.pack("<4sBBI", b"TGPT", 1, 16, len(header)) + header
        with pytest.raises(TinyGPTError, match="nests"):
            compact.unpack(data)
    elif where == "saved run":
        from tinygpt import lessons

        answer = json.loads(lessons.call("set_run", json.dumps({"state_json": DEEP})))
        assert answer["kind"] == "user" and "nests" in answer["error"]
    else:
        answer = json.loads(jsonio.call({"info": lambda: 1}, "info", '{"a": ' + DEEP + "}"))
        assert answer["kind"] == "user" and "nests" in answer["error"]


# --- a small link with a huge model ---------------------------------------------------------
def zero_link(n_embd, n_layer, block_size, bits=16):
    """The bytes of a model link with all-zero weights: tiny once compressed."""
    chars = [chr(97 + i) for i in range(26)]
    config = {"n_embd": n_embd, "n_head": 4, "n_layer": n_layer, "block_size": block_size}
    header = json.dumps({"config": config, "chars": chars, "meta": {}}).encode()
    count = sum(r * c for _, r, c in param_shapes(Config(**config), len(chars) + 1))
    return struct.pack("<4sBBI", b"TGPT", 1, bits, len(header)) + header + bytes(count * bits // 8)


def test_a_model_too_big_for_the_page_is_refused_from_its_header():
    data = zero_link(256, 8, 256)
    session = Session()
    with pytest.raises(TinyGPTError) as error:
        session.load_shared_model(base64.b64encode(data).decode())
    message = str(error.value)
    assert "6,370,816 parameters" in message and f"{limits()['max_params']:,}" in message
    # The CLI, which is not the page, still reads a model over the page's limit.
    just_over = zero_link(64, 3, 64)
    with pytest.raises(TinyGPTError, match="155,008 parameters"):
        session.load_shared_model(base64.b64encode(just_over).decode())
    model, bits = compact.unpack(just_over)
    assert bits == 16 and model.config.n_embd == 64


def test_the_page_refuses_runs_it_could_not_train_or_reopen():
    with pytest.raises(TinyGPTError, match="this page runs models of up to"):
        Session().new_run(FEW, {"n_embd": 128, "n_layer": 4, "n_head": 4})


def test_model_files_of_any_size_the_settings_allow_are_read_by_the_cli(tmp_path):
    # A model file of several MB (the CLI used to refuse files over 4 MB as "training text").
    trainer = Trainer(FEW, n_embd=64, n_head=4, n_layer=4, block_size=64, steps=1)
    path = tmp_path / "big.json"
    path.write_text(json.dumps(trainer.model_file()))
    assert path.stat().st_size > 4_000_000
    result = tinygpt(["sample", "--model", str(path), "--n", "2"], tmp_path, check=True)
    assert len(result.stdout.splitlines()) == 2


# --- generating in pieces ----------------------------------------------------------------------
def test_generation_job_gives_the_names_generate_gives(trained):
    want = trained.model.sample(7, 0.8, "a", 5)
    trained.start_generate(7, 0.8, "a", 5)
    answers = []
    while True:
        answers.append(trained.work_for(0))  # one letter per call
        if answers[-1]["done"]:
            break
    assert answers[-1]["names"] == want
    assert len(answers) > 7  # it came a piece at a time
    assert all(a["names"] is None for a in answers[:-1])


def test_generation_job_can_be_cancelled_and_bad_settings_fail_at_once(trained):
    trained.start_generate(50, 0.5, "", 1)
    trained.work_for(0)
    trained.cancel_generate()
    assert trained.work_for(0) == {"job": None, "done": True, "names": None}
    for bad in ({"n": 0}, {"temperature": 0}, {"prefix": "zz9"}, {"seed": -1}):
        with pytest.raises(TinyGPTError):
            trained.start_generate(**{"n": 3, "temperature": 0.5, "prefix": "", "seed": 1, **bad})


def test_training_advances_a_generation_job_too():
    s = Session()
    s.new_run(FEW, {**SMALL, "steps": 400})
    want = s.model.sample(3, 0.5, "", 2)
    s.start_generate(3, 0.5, "", 2)  # the names of the weights at this step
    answer = {}
    while "job" not in answer or not answer["job"]["done"]:
        answer = s.train_for(60_000, max_steps=0)
    assert answer["job"]["names"] == want and s.trainer.step_count == 0


def test_next_letter_feeds_one_position_per_letter(trained, monkeypatch):
    fed = positions_fed(monkeypatch)
    trained.letters_start(0.5, 9)
    answers = [trained.letters_next(0.5) for _ in range(20)]
    assert answers[-1]["done"]
    assert fed[0] == 1 and all(n == 1 for n in fed[1:])  # BOS, then one letter at a time
    # The letters are those Model.sample draws with the same random stream.
    name = answers[-1]["text"]
    assert name == trained.model.sample(1, 0.5, "", 9)[0]
    assert all(a["probs"] == [] or abs(sum(p for _, p in a["probs"]) - 1) < 1e-9 for a in answers)


def test_next_letter_stops_where_sample_stops():
    trainer = Trainer(FEW, n_embd=8, n_head=2, block_size=3, steps=1)
    for seed in range(30):
        letters = Letters(trainer, seed)
        answer = letters.view(2.0)
        while not answer["done"]:
            answer = letters.next(2.0)
        assert answer["text"] == trainer.sample(1, 2.0, "", seed)[0]
        assert len(answer["text"]) <= trainer.max_name_length == 3


# --- one rule for hidden characters --------------------------------------------------------------
def test_joiners_that_names_use_are_text_and_other_invisible_characters_are_not():
    assert parse_documents("ali\u200creza\n👩\u200d💻\n") == ["ali\u200creza", "👩\u200d💻"]
    for bad in ("\u202e", "\u200b", "\u200e", "\ufeff", "\x1b", "\t", "\ud800", "\u2066"):
        assert hidden_character(f"a{bad}b") == bad
        with pytest.raises(TinyGPTError, match=f"U\\+{ord(bad):04X}"):
            parse_documents(f"ok\na{bad}b\n")


@pytest.mark.parametrize("chars", [["\ud800"], ["a", "\u202e"], ["\x00"]])
def test_a_vocabulary_with_a_hidden_character_or_lone_surrogate_is_refused(trained, chars):
    file = trained.model_file()
    file["chars"] = sorted(chars)
    with pytest.raises(TinyGPTError, match="vocabulary"):
        checkpoint.load_model_file(file)


def test_meta_text_follows_the_same_rule(trained):
    with pytest.raises(TinyGPTError, match="U\\+202E"):  # the page never writes it
        trained.model_file({"dataset": "evil\u202etxt"})
    file = checkpoint.model_file(trained.model, {"dataset": "evil\u202etxt"})
    with pytest.raises(TinyGPTError, match="U\\+202E"):
        checkpoint.load_model_file(json.loads(json.dumps(file)))


# --- the page's way of opening a file ------------------------------------------------------------
def damaged_files(good):
    def changed(fn):
        file = json.loads(json.dumps(good))
        fn(file)
        return file

    return {
        "good": good,
        "missing matrix": changed(lambda f: f["state_dict"].pop("wte")),
        "short row": changed(lambda f: f["state_dict"]["wte"][0].pop()),
        "text weight": changed(lambda f: f["state_dict"]["wpe"][1].__setitem__(0, "x")),
        "row not a list": changed(lambda f: f["state_dict"]["wpe"].__setitem__(0, 3)),
        "matrix not a list": changed(lambda f: f["state_dict"].__setitem__("wpe", "x")),
        "no state_dict": changed(lambda f: f.__setitem__("state_dict", [])),
        "version 2": changed(lambda f: f.__setitem__("version", 2)),
    }


def test_a_file_opened_by_the_page_gives_the_model_or_the_message_the_cli_gives(trained):
    good = json.loads(json.dumps(trained.model_file()))
    for name, file in damaged_files(good).items():
        try:
            want = checkpoint.load_model_file(json.loads(json.dumps(file)))
        except TinyGPTError as e:
            with pytest.raises(TinyGPTError) as got:
                Session().open_model_file(**page_parts(file))
            assert str(got.value) == str(e), name
            continue
        s = Session()
        info = s.open_model_file(**page_parts(file))
        assert s.model.params == want.params and info["trainable"] is False, name


# --- damaged saved runs --------------------------------------------------------------------------
def test_a_damaged_random_state_is_a_clear_error_not_an_overflow(trained):
    state = trained.run_state()
    state["rng"][1][0] = 10**30
    with pytest.raises(TinyGPTError, match="random state"):
        Session().restore_run(state)


def test_a_packed_run_state_round_trips_and_its_damage_is_caught(trained):
    packed = json.loads(json.dumps(trained.run_state(packed=True)))
    assert packed["version"] == 2 and "params" not in packed
    s = Session()
    s.restore_run(packed)
    assert s.trainer.params == trained.trainer.params and s.trainer.losses == trained.trainer.losses
    for damage in (lambda p: p.update(floats=p["floats"][:-8]),
                   lambda p: p.update(floats="not base64!"),
                   lambda p: p.update(step=p["step"] - 1),
                   lambda p: p.update(version=3),
                   lambda p: p["settings"].update(n_embd="x")):
        broken = json.loads(json.dumps(packed))
        damage(broken)
        with pytest.raises(TinyGPTError):
            Session().restore_run(broken)


def test_a_saved_run_from_a_newer_tinygpt_says_so(trained):
    state = trained.run_state()
    state["version"] = 7
    with pytest.raises(TinyGPTError, match="version 7;.*another version"):
        Trainer.from_state(state)


# --- one headline loss, one dataset title --------------------------------------------------------
def test_the_saved_model_the_card_and_the_link_quote_one_loss():
    s = Session()
    s.new_run(FEW, {**SMALL, "val_fraction": 0.2, "steps": 100}, dataset="Test names")
    while not s.train_for(60_000)["done"]:
        pass
    info = s.info()
    assert info["loss"] == s.work.val_points[-1][1] and info["dataset"] == "Test names"
    assert s.model_file()["meta"]["loss"] == info["loss"]
    assert s.model_file()["meta"]["dataset"] == "Test names"
    other = Session()
    opened = other.load_shared_model(s.share_model(exact=True)["data"])
    assert opened["loss"] == info["loss"] and opened["dataset"] == "Test names"
    # A model from elsewhere: its validation loss if it has one, else its loss.
    file = json.dumps(checkpoint.model_file(s.model, {"loss": 2.5}))
    assert Session().load_model(file)["loss"] == 2.5
