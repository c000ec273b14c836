"""Export to PyTorch, the numbers: the same model, the same losses, there and back.

A small run trained in the page's Session is exported (the page's zip); its train.py,
sample.py and model.py then run in PyTorch (float64 on the CPU) and must agree with
TinyGPT within 1e-9: the loss of the exported model, a fresh run's losses step for step,
a two-process torchrun run with a one-process run, and the trained model brought back
into `python -m tinygpt eval / sample`. Scripts run in subprocesses without PYTHONPATH
(nothing there imports tinygpt), or in this process where many calls are needed.
"""

import base64
import importlib
import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch  # requirements-dev.txt installs it: these tests must run, never skip
from helpers import EXPORT_NAMES, SMALL, SMALL_ARGS, child_env, tinygpt

from tinygpt import checkpoint
from tinygpt.session import Session

TEXT = "\n".join(EXPORT_NAMES) + "\n"
# block_size 8 cuts the longer names: truncation is part of what must agree
SETTINGS = {**SMALL, "steps": 60, "seed": 7, "lr": 0.02, "val_fraction": 0.1}


def run(args, cwd, timeout=180):
    """python ARGS in the project's folder, without PYTHONPATH: tinygpt is not importable."""
    return subprocess.run([sys.executable, *args], cwd=cwd, timeout=timeout, text=True,
                          env=child_env(pythonpath=False, OMP_NUM_THREADS="1"),
                          capture_output=True)


def log_losses(path):
    lines = [json.loads(line) for line in Path(path).read_text("utf-8").splitlines()]
    assert [x["step"] for x in lines] == list(range(1, len(lines) + 1))
    return [x["loss"] for x in lines]


def printed_val_loss(stdout):
    return float(re.search(r"validation loss (\S+) on", stdout).group(1))


def max_weight_diff(a, b):
    a, b = json.loads(Path(a).read_text("utf-8")), json.loads(Path(b).read_text("utf-8"))
    return max(abs(x - y) for name in a["state_dict"]
               for ra, rb in zip(a["state_dict"][name], b["state_dict"][name])
               for x, y in zip(ra, rb))


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """The page's run (trained to the end) and its exported project, unzipped."""
    session = Session()
    session.new_run(TEXT, SETTINGS)
    while not session.trainer.done:
        session.train_for(100)
    folder = tmp_path_factory.mktemp("export")
    answer = session.export_project(meta={"source": "page"})
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(answer["data"])))
    for info in archive.infolist():
        (folder / info.filename.split("/", 1)[1]).write_bytes(archive.read(info))
    (folder / "val.txt").write_text("\n".join(session.trainer.val_docs) + "\n", "utf-8")
    return folder, session.trainer


@pytest.fixture(scope="module")
def scripts(project):
    """The exported model.py, train.py and sample.py, imported in this process."""
    folder, _ = project
    sys.path.insert(0, str(folder))
    try:
        yield {name: importlib.import_module(name) for name in ("model", "train", "sample")}
    finally:
        sys.path.remove(str(folder))
        for name in ("model", "train", "sample"):
            sys.modules.pop(name, None)


def test_exported_model_computes_tinygpt_eval(project, scripts, capsys):
    folder, _ = project
    for data in ("data.txt", "val.txt"):
        assert scripts["train"].main(["--eval", "--init", str(folder / "model.json"), "--data",
                                      str(folder / data), "--dtype", "float64"]) == 0
        ours = json.loads(capsys.readouterr().out)
        theirs = tinygpt(["eval", "--model", "model.json", "--data", data], folder, check=True)
        theirs = json.loads(theirs.stdout)
        assert ours["docs"] == theirs["docs"]
        assert abs(ours["loss"] - theirs["loss"]) < 1e-9


def test_fresh_run_repeats_the_run_and_comes_back(project):
    """No settings given: train.py takes the exported run's, and repeats it in PyTorch."""
    folder, trainer = project
    result = run(["train.py", "--dtype", "float64", "--device", "cpu", "--threads", "1",
                  "--log-file", "fresh.jsonl", "--out", "fresh.json"], folder)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # not even a warning
    losses = log_losses(folder / "fresh.jsonl")
    assert len(losses) == SETTINGS["steps"]
    assert max(abs(a - b) for a, b in zip(losses, trainer.losses)) < 1e-9
    # ... as `python -m tinygpt train` logs it
    tinygpt(["train", "--data", "data.txt", *SMALL_ARGS, "--steps", "60", "--seed", "7",
             "--lr", "0.02", "--val-fraction", "0.1", "--log", "cli.jsonl"], folder, check=True)
    assert max(abs(a - b) for a, b in zip(losses, log_losses(folder / "cli.jsonl"))) < 1e-9
    # the trained model back in TinyGPT: its eval gives the validation loss train.py printed
    val = printed_val_loss(result.stdout)
    assert abs(val - trainer.evaluate()) < 1e-9
    back = tinygpt(["eval", "--model", "fresh.json", "--data", "val.txt"], folder, check=True)
    back = json.loads(back.stdout)
    assert abs(back["loss"] - val) < 1e-9
    names = tinygpt(["sample", "--model", "fresh.json", "--n", "5", "--seed", "1"], folder,
                    check=True)
    assert len(names.stdout.splitlines()) == 5
    meta = checkpoint.loads((folder / "fresh.json").read_text("utf-8")).meta
    assert meta["source"] == "pytorch" and meta["steps"] == 60 and meta["val_loss"] == val


def test_float32_run_comes_back(project, scripts, capsys):
    folder, _ = project
    out = str(folder / "f32.json")
    code = scripts["train"].main(["--dtype", "float32", "--device", "cpu", "--threads", "1",
                                  "--batch", "4", "--steps", "25", "--out", out])
    assert code == 0
    val = printed_val_loss(capsys.readouterr().out)
    back = tinygpt(["eval", "--model", "f32.json", "--data", "val.txt"], folder, check=True)
    back = json.loads(back.stdout)
    assert abs(back["loss"] - val) < 1e-5


def test_two_processes_equal_one(project, scripts, capsys):
    """torchrun with gloo: each process takes its share of a step's 3 documents (2 + 1)."""
    folder, _ = project
    common = ["--dtype", "float64", "--device", "cpu", "--batch", "3", "--steps", "20",
              "--print-every", "5"]
    code = scripts["train"].main([*common, "--threads", "1", "--out", str(folder / "one.json"),
                                  "--log-file", str(folder / "one.jsonl")])
    assert code == 0
    capsys.readouterr()
    result = run(["-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                  "train.py", *common, "--out", "two.json", "--log-file", "two.jsonl"], folder)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "2 processes" in result.stdout and result.stdout.count("saved two.json") == 1
    one, two = log_losses(folder / "one.jsonl"), log_losses(folder / "two.jsonl")
    assert len(one) == len(two) == 20
    assert max(abs(a - b) for a, b in zip(one, two)) < 1e-9
    assert max_weight_diff(folder / "one.json", folder / "two.json") < 1e-9


def test_greedy_names_are_tinygpt_names(project, scripts, capsys):
    folder, trainer = project
    model, tokenizer, _ = scripts["model"].load_model_file(folder / "model.json")
    model.eval()

    def tinygpt_greedy(prefix):  # TinyGPT's probabilities, always the most likely letter
        name = prefix
        while len(name) < trainer.config.block_size:
            char = trainer.next_token_probs(name, temperature=1.0)[0][0]
            if char == "":
                break
            name += char
        return name

    # every letter as a prefix, and prefixes that leave room for one letter only
    prefixes = ["", *sorted(set("".join(EXPORT_NAMES))), "christo", "maximil", "alexand"]
    ours = [scripts["sample"].generate(model, tokenizer, 1, 0, prefix)[0] for prefix in prefixes]
    assert ours == [tinygpt_greedy(prefix) for prefix in prefixes]
    assert any(len(name) == trainer.config.block_size for name in ours)  # a full block stops
    # the command line prints the same
    code = scripts["sample"].main(["--model", str(folder / "model.json"), "--n", "2",
                                   "--temperature", "0", "--prefix", "ma", "--device", "cpu"])
    assert code == 0
    assert capsys.readouterr().out.split() == [tinygpt_greedy("ma")] * 2


def test_resume_continues_exactly(project, scripts, monkeypatch, capsys):
    folder, _ = project
    train = scripts["train"]
    common = ["--dtype", "float64", "--device", "cpu", "--threads", "1", "--batch", "2",
              "--steps", "16", "--seed", "5", *SMALL_ARGS]
    assert train.main([*common, "--out", str(folder / "whole.json"),
                       "--log-file", str(folder / "whole.jsonl")]) == 0
    real_step = train.train_step

    def interrupted(*args, **kwargs):
        if args[4] == 11:  # k: the 12th step
            raise KeyboardInterrupt
        return real_step(*args, **kwargs)

    monkeypatch.setattr(train, "train_step", interrupted)
    assert train.main([*common, "--out", str(folder / "cut.json"), "--ckpt-every", "5",
                       "--log-file", str(folder / "cut.jsonl")]) == 130
    assert not (folder / "cut.json").exists()
    ckpt = checkpoint.loads((folder / "cut.ckpt.json").read_text("utf-8"))  # a model file
    assert ckpt.meta["steps"] == 10
    monkeypatch.setattr(train, "train_step", real_step)
    assert train.main(["--resume", str(folder / "cut.ckpt.pt"), "--device", "cpu",
                       "--dtype", "float64", "--out", str(folder / "cut.json"),
                       "--log-file", str(folder / "cut.jsonl")]) == 0
    assert log_losses(folder / "cut.jsonl") == log_losses(folder / "whole.jsonl")
    assert max_weight_diff(folder / "cut.json", folder / "whole.json") == 0
    assert not (folder / "cut.ckpt.pt").exists()  # a finished run needs no checkpoint
    capsys.readouterr()


def test_adam_is_tinygpt_adam_over_1000_steps(scripts):
    """train.py's Adam against TinyGPT's, float64, decaying learning rate."""
    import random

    from tinygpt.optim import Adam

    rng, steps, lr = random.Random(0), 1000, 0.01
    start = [rng.gauss(0, 0.08) for _ in range(64)]
    tinygpt_adam, params = Adam(len(start), lr, steps), {"w": [list(start)]}
    weight = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    adam = scripts["train"].Adam([weight])
    for k in range(steps):
        grads = [rng.gauss(0, 1) * (k % 7 != i % 7) * 10 ** rng.randint(-6, 1) for i in range(64)]
        params = tinygpt_adam.update_fast(params, {"w": [grads]}, k)
        weight.grad = torch.tensor(grads, dtype=torch.float64)
        adam.step(k, lr * (1 - k / steps))
    assert max(abs(a - b) for a, b in zip(params["w"][0], weight.tolist())) < 1e-12


@pytest.mark.parametrize(
    "script, args, fragments",
    [
        ("train", ["--device", "tpu"], ["--device", "tpu"]),
        ("sample", ["--device", "tpu"], ["--device", "tpu"]),
        ("train", ["--dtype", "float16"], ["--dtype"]),
        ("train", ["--init", "data.txt", "--steps", "2"], ["not a TinyGPT model file"]),
        ("train", ["--data", "nope.txt", "--steps", "2"], ["nope.txt"]),
        ("train", ["--steps", "0"], ["--steps"]),
        ("train", ["--init", "model.json", "--n-embd", "16"], ["--init"]),
        ("train", ["--device", "cuda"] if not torch.cuda.is_available() else ["--lr", "-1"],
         ["cuda"] if not torch.cuda.is_available() else ["--lr"]),
        ("train", ["--val-fraction", "0.9"], ["--val-fraction"]),
        ("train", ["--print-every", "0"], ["--print-every"]),
        ("train", ["--resume", "model.json"], ["not a checkpoint"]),
        ("train", ["--resume", "nope.pt"], ["nope.pt"]),
        ("train", ["--resume", "model.json", "--lr", "0.1"], ["--resume"]),
        ("sample", ["--model", "data.txt"], ["not a TinyGPT model file"]),
        ("sample", ["--model", "model.json", "--prefix", "#"], ["vocabulary"]),
        ("sample", ["--model", "model.json", "--temperature", "-1"], ["--temperature"]),
    ],
)
def test_bad_input_is_one_line(project, scripts, capsys, monkeypatch, script, args, fragments):
    folder, _ = project
    monkeypatch.chdir(folder)
    assert scripts[script].main(args) != 0
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    for fragment in fragments:
        assert fragment in lines[0]
