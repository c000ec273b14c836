"""Long single calls made into jobs of short pieces: Share model
(measured 100 names twice in one task: 6.7 s at 102k parameters, 258 ms at the default
size), a long prefix (one forward pass over 255 letters: 3-4 s on a block-256 model) and
Export to PyTorch (one 278 ms task). Each is now started, then advanced a piece at a time
(job_for, work_for), and gives exactly what the one-go call gives."""

import base64
import io
import json
import zipfile

import pytest
from helpers import SMALL, TEXT, positions_fed

from tinygpt import checkpoint, compact, export, fast, generate
from tinygpt.scheduler import finish
from tinygpt.session import Session
from tinygpt.trainer import Trainer

SMALL_RUN = {**SMALL, "steps": 30}  # the SMALL model, trained briefly


@pytest.fixture(scope="module")
def session():
    s = Session()
    s.new_run(TEXT, {**SMALL_RUN, "val_fraction": 0.3, "seed": 5})
    while not s.train_for(60_000)["done"]:
        pass
    return s


def run_job(session, start, **args):
    """Start a job, then advance it one piece per call; (answer, pieces)."""
    job = getattr(session, start)(**args)["job"]
    pieces = 0
    while True:
        answer = session.job_for(0)  # a budget of 0: exactly one piece per call
        pieces += 1
        assert answer["job"] == job
        if answer["done"]:
            return answer["result"], pieces
        assert isinstance(answer["progress"], str) and answer["progress"]


@pytest.mark.parametrize("exact", [False, True])
def test_the_share_job_gives_what_share_model_gives(session, exact):
    result, pieces = run_job(session, "start_share_model", exact=exact, meta={"a": 1})
    assert result == session.share_model(exact=exact, meta={"a": 1})
    if not exact:  # rounded, measured a name per piece
        assert result["docs"] == len(session.trainer.val_docs) and pieces > 2 * result["docs"]


def test_each_piece_of_the_share_job_measures_one_name_at_most(session, monkeypatch):
    measured = []
    loss = generate.Model.document_loss
    monkeypatch.setattr(generate.Model, "document_loss",
                        lambda self, doc: measured.append(doc) or loss(self, doc))
    session.start_share_model(exact=False)
    per_piece = []
    while True:
        before = len(measured)
        answer = session.job_for(0)
        per_piece.append(len(measured) - before)
        if answer["done"]:
            break
    assert max(per_piece) == 1 and sum(per_piece) == len(measured) > 0


def test_choose_bits_in_pieces_is_choose_bits(session):
    model, docs = session.model, session.trainer.val_docs
    pieces = list(_pieces(compact.choose_bits_steps(model, docs)))
    assert pieces[-1] == compact.choose_bits(model, docs)
    # ... which measures as Model.evaluate_docs does (the same sum, in the same order)
    rounded = generate.Model(model.config, model.tokenizer,
                             compact.quantize(model.params, pieces[-1]["bits"]))
    if pieces[-1]["loss"] is not None:
        assert pieces[-1]["loss"] == model.evaluate_docs(docs)
        assert pieces[-1]["loss_shared"] == rounded.evaluate_docs(docs)


def _pieces(steps):
    """The progress lines, then the answer."""
    while True:
        try:
            yield next(steps)
        except StopIteration as stop:
            yield stop.value
            return


def test_the_shared_weights_are_those_of_the_step_the_job_started_at():
    s = Session()
    s.new_run(TEXT, {**SMALL_RUN, "steps": 200})
    s.train_for(60_000, max_steps=5)
    want = s.share_model(exact=True)
    s.start_share_model(exact=True)
    s.train_for(60_000, max_steps=5)  # training goes on while the job runs
    while not (answer := s.job_for(0))["done"]:
        pass
    assert answer["result"] == want


def test_a_new_run_or_model_drops_the_job(session):
    s = Session()
    s.new_run(TEXT, SMALL_RUN)
    s.start_export_project()
    s.discard()
    assert s.job_for(20) == {"job": None, "done": True, "progress": None, "result": None}
    s.new_run(TEXT, SMALL_RUN)
    s.start_share_model()
    s.cancel_job()
    assert s.job_for(20)["job"] is None


# --- export ------------------------------------------------------------------------------------
def test_the_export_job_gives_what_export_project_gives(session):
    result, pieces = run_job(session, "start_export_project", meta={"source": "page"})
    assert result == session.export_project(meta={"source": "page"})
    matrices = len(session.model.params)
    assert pieces > matrices  # a matrix of model.json per piece, then the zip in chunks


def writestr_zip(files, folder=export.ZIP_FOLDER):
    """The zip as zipfile.writestr makes it, in one call per file (how export.py made it)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=export.ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    return buffer.getvalue()


def test_the_zip_made_in_chunks_is_the_zip_made_at_once(monkeypatch):
    trainer = Trainer(TEXT, n_embd=16, n_head=4, n_layer=2, block_size=16, steps=1)
    files = export.project_files(trainer, TEXT)
    monkeypatch.setattr(export, "ZIP_CHUNK", 1000)  # many chunks per file
    chunks = list(_pieces(export.project_zip_steps(files)))
    assert len(chunks) > sum(len(v) for v in files.values()) // 1000
    assert chunks[-1] == writestr_zip(files)


def test_model_json_written_a_matrix_at_a_time_is_dumps(session):
    meta = {"dataset": "x", "loss": 2.5, "settings": {"batch": 1}, "list": [1, 2.0, None]}
    pieces = list(_pieces(checkpoint.dumps_steps(session.model, meta)))
    assert len(pieces) == len(session.model.params) + 1
    assert pieces[-1] == checkpoint.dumps(session.model, meta)
    assert json.loads(pieces[-1]) == json.loads(json.dumps(checkpoint.model_file(session.model,
                                                                                 meta)))


def test_the_exported_zip_holds_the_model(session):
    result = finish(export.page_export_steps(session.model_file(), session.trainer))
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(result["data"]))) as archive:
        model = json.loads(archive.read(f"{export.ZIP_FOLDER}/model.json"))
    assert model["state_dict"] == session.model.params


# --- a long prefix, a position per piece ---------------------------------------------------------
@pytest.fixture(scope="module")
def long_block():
    return Trainer(TEXT, n_embd=8, n_head=2, n_layer=2, block_size=64, steps=1)


def test_a_long_prefix_is_fed_one_position_per_piece(long_block, monkeypatch):
    fed = positions_fed(monkeypatch)
    prefix = ("emma" * 20)[:60]
    s = Session()
    s._replace(long_block, None)
    s.start_generate(3, 0.8, prefix, 4)
    per_piece = []
    while True:
        before = len(fed)
        answer = s.work_for(0)
        per_piece.append(sum(fed[before:]))
        if answer["done"]:
            break
    assert max(per_piece) == 1  # one position of work per piece, prefix included
    assert sum(per_piece) < 61 + 3 * 64  # the prefix once, not once per name


@pytest.mark.parametrize("prefix", ["", "e", "emmaoliviaava"])
def test_names_after_a_prefix_fed_in_pieces_are_those_of_one_pass(long_block, prefix):
    # The reference feeds BOS and the prefix in one forward pass (as generate.py did) and
    # draws from there with the same random numbers.
    import random

    model = long_block
    for seed in range(5):
        rng = random.Random(seed)
        names = []
        for _ in range(4):
            cache, ids, logits = model._start(prefix)
            ids = list(ids)
            while True:
                probs = fast.softmax_rows([logits], 0.7)[0]
                token = rng.choices(range(model.tokenizer.vocab_size), weights=probs)[0]
                if token != model.tokenizer.bos:
                    ids.append(token)
                if model.ends_name(token, len(ids)):
                    break
                logits = fast.forward(model.params, model.config, [token], cache)[-1]
            names.append(model.tokenizer.decode(ids))
        assert model.sample(4, 0.7, prefix, seed) == names
