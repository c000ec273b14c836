"""Sharing a model in a link (compact bytes) and measuring a model on text: the Session
methods the page's share and file controls call, and how they treat damaged input."""

import base64
import json
import math
import struct

import pytest
from helpers import TEXT, TINY, TRAINED, tinygpt

from tinygpt import checkpoint, compact
from tinygpt.errors import TinyGPTError
from tinygpt.session import Session

SMALL = {**TINY, "steps": 60}


def shared_bytes(answer):
    return base64.b64decode(answer["data"])


def test_exact_share_gives_identical_weights_and_names(trained):
    answer = trained.share_model(exact=True, meta={"dataset": "test names"})
    assert answer["bits"] == 64
    other = Session()
    info = other.load_shared_model(answer["data"])
    assert info["bits"] == 64 and info["trainable"] is False
    assert other.model.params == trained.model.params
    assert info["meta"]["dataset"] == "test names" and info["meta"]["steps"] == TRAINED["steps"]
    assert other.model.sample(20, 0.7, "", 11) == trained.model.sample(20, 0.7, "", 11)


def test_compact_share_rounds_within_the_loss_budget(trained):
    answer = trained.share_model()
    assert answer["bits"] in (16, 32)
    assert answer["measured_on"] == "training" and answer["docs"] == len(trained.trainer.train_docs)
    assert abs(answer["loss_shared"] - answer["loss"]) < compact.MAX_LOSS_CHANGE
    exact = trained.share_model(exact=True)
    assert answer["bytes"] < exact["bytes"] / 3  # 16 bits per weight instead of 64
    other = Session()
    other.load_shared_model(answer["data"])
    # The loss the page claims is the loss of the weights in the link.
    docs = trained.trainer.train_docs
    assert other.model.evaluate_docs(docs) == pytest.approx(answer["loss_shared"], abs=1e-12)
    assert other.model.params != trained.model.params


def test_compact_share_measures_on_validation_documents():
    session = Session()
    session.new_run(TEXT, {**SMALL, "val_fraction": 0.2})
    session.train_for(60_000)
    answer = session.share_model()
    assert answer["measured_on"] == "validation"
    assert answer["docs"] == len(session.trainer.val_docs)


def test_rounding_that_changes_the_loss_too_much_falls_back(trained, monkeypatch):
    monkeypatch.setattr(compact, "MAX_LOSS_CHANGE", 0.0)
    assert trained.share_model()["bits"] == 64


def test_a_model_already_in_16_bits_reshares_in_16_bits_without_data(trained):
    first = Session()
    first.load_shared_model(trained.share_model()["data"])
    again = first.share_model()  # a loaded model has no documents to measure on...
    assert again["docs"] == 0
    assert again["bits"] == 16  # ...but rounding to 16 bits changes nothing


def test_a_loaded_model_without_data_shares_exactly(trained):
    session = Session()
    session.load_model(json.dumps(trained.model_file()))
    assert session.share_model()["bits"] == 64


def test_evaluate_text_matches_the_cli(trained, tmp_path):
    model_path, data_path = tmp_path / "m.json", tmp_path / "d.txt"
    model_path.write_text(json.dumps(trained.model_file()))
    data_path.write_text("emma\nliam\nava\n")
    out = tinygpt(["eval", "--model", str(model_path), "--data", str(data_path)], tmp_path,
                  check=True)
    assert json.loads(out.stdout) == trained.evaluate_text("emma\nliam\nava\n")
    with pytest.raises(TinyGPTError, match="empty"):
        trained.evaluate_text("  \n")


# --- damaged and hostile links ----------------------------------------------------------


def good_bytes(trained, bits=64):
    return compact.pack(trained.model, {"dataset": "x"}, bits)


def rebuild(header, weights, bits=64, version=1, magic=b"TGPT"):
    head = json.dumps(header).encode()
    return struct.pack("<4sBBI", magic, version, bits, len(head)) + head + weights


def b64(data):
    return base64.b64encode(data).decode()


def header_of(data):
    (length,) = struct.unpack_from("<I", data, 6)
    return json.loads(data[10 : 10 + length]), data[10 + length :]


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda d: d[: len(d) // 2], "truncated"),
        (lambda d: d[:7], "not a TinyGPT model link"),
        (lambda d: b"", "not a TinyGPT model link"),
        (lambda d: b"PK\x03\x04" + d[4:], "not a TinyGPT model link"),
        (lambda d: d[:4] + b"\x07" + d[5:], "version 7"),
        (lambda d: d[:5] + b"\x08" + d[6:], "8-bit"),
        (lambda d: d[:6] + struct.pack("<I", 10**9) + d[10:], "damaged or too long"),
        (lambda d: d + b"\x00" * 8, "truncated or damaged"),
    ],
)
def test_damaged_bytes_are_refused_with_a_message(trained, damage, message):
    session = Session()
    session.new_run(TEXT, SMALL)
    session.train_for(5)
    before = session.run_state()
    with pytest.raises(TinyGPTError, match=message):
        session.load_shared_model(b64(damage(good_bytes(trained))))
    assert session.run_state() == before  # the current run is untouched


def test_wrong_shapes_bad_config_and_bad_vocabulary_are_refused(trained):
    header, weights = header_of(good_bytes(trained))
    session = Session()
    cases = [
        ({**header, "config": {**header["config"], "n_embd": 16}}, "truncated or damaged"),
        ({**header, "config": {**header["config"], "n_head": 3}}, "divisible"),
        ({**header, "config": {"n_embd": 8}}, "config"),
        ({**header, "config": {**header["config"], "n_layer": "1"}}, "whole number"),
        ({**header, "chars": header["chars"][::-1]}, "sorted"),
        ({**header, "chars": ["ab"] + header["chars"][1:]}, "single"),
        ({**header, "meta": "x" * 50}, "meta"),
        ([1, 2], "does not describe a model"),
    ]
    for bad, message in cases:
        with pytest.raises(TinyGPTError, match=message):
            session.load_shared_model(b64(rebuild(bad, weights)))
    assert session.model is None


def test_non_finite_weights_are_refused(trained):
    header, weights = header_of(good_bytes(trained, bits=16))
    for bad in (b"\x00\x7c", b"\x00\x7e", b"\x00\xfc"):  # +inf, NaN, -inf in float16
        data = rebuild(header, bad + weights[2:], bits=16)
        with pytest.raises(TinyGPTError, match="not a finite number"):
            Session().load_shared_model(b64(data))


def test_huge_finite_weights_load_although_their_sum_overflows(trained):
    # The link's check sums the weights first; a sum that overflows must not refuse them.
    header, weights = header_of(good_bytes(trained))
    count = len(weights) // 8
    huge = struct.pack(f"<{count}d", *([1e308, -1e308, 1e308] * count)[:count])
    model = Session().load_shared_model(b64(rebuild(header, huge)))
    assert model["params"] == count
    for where in (0, count // 2, count - 1):  # and a NaN anywhere among them is still found
        bad = huge[: where * 8] + struct.pack("<d", math.nan) + huge[where * 8 + 8 :]
        with pytest.raises(TinyGPTError, match="not a finite number"):
            Session().load_shared_model(b64(rebuild(header, bad)))


def test_broken_base64_and_oversized_data_are_refused():
    with pytest.raises(TinyGPTError, match="encoding is broken"):
        Session().load_shared_model("abc$%^")
    with pytest.raises(TinyGPTError, match="too large"):
        Session().load_shared_model("A" * (compact.MAX_BYTES * 2))
    with pytest.raises(TinyGPTError, match="damaged"):
        Session().load_shared_model(b64(rebuild({"config": {}}, b"")[:10] + b"\xff\xfe"))


def test_weights_beyond_float16_range_fall_back_to_more_bits(trained):
    session = Session()
    session.load_model(json.dumps(trained.model_file()))
    session.model.params["wte"][0][0] = 1e6  # representable in float32, not float16
    answer = session.share_model()
    assert answer["bits"] == 64  # no documents to measure float32 on: exact
    other = Session()
    other.load_shared_model(answer["data"])
    assert other.model.params["wte"][0][0] == 1e6


def test_unpack_agrees_with_the_model_file_reader(trained):
    model, bits = compact.unpack(good_bytes(trained))
    via_file = checkpoint.loads(json.dumps(trained.model_file()))
    assert bits == 64 and model.params == via_file.params
