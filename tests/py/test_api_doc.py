"""API.md and the README against the code: every documented signature, attribute and
constant, the page API complete, the keys of a run state and of info(), and every CLI
option the README and the lessons mention.

API.md's format (its introduction says it too): in each ```python block, a line
`# tinygpt.module` (or `# page: tinygpt.session.api`) says where names live; a line starting
`name(parameters)` is a signature, `Class.attribute` an attribute, `NAME == value` a
constant. Indented lines and comments are free text.
"""

import ast
import functools
import importlib
import inspect
import re

import pytest
from helpers import FEW, ROOT

from tinygpt import __main__ as cli
from tinygpt.checkpoint import load_model_file
from tinygpt.data import Tokenizer
from tinygpt.generate import Model
from tinygpt.scheduler import Scheduler
from tinygpt.session import Session, api
from tinygpt.trainer import Trainer

SIGNATURE = re.compile(r"^([A-Za-z_][\w.]*)\((.*)$")
CONSTANT = re.compile(r"^([A-Z_][\w.]*)\s*==\s*(.+)$")
ATTRIBUTE = re.compile(r"^([A-Za-z_]\w*)\.(\w+)\s*(#.*|->.*)?$")


@functools.cache
def sample_instances():
    """One object of each documented class, for attributes set in __init__."""
    trainer = Trainer(FEW, val_fraction=0.2)
    session = Session()
    session.new_run(FEW, {"steps": 2})
    return {
        Trainer: trainer,
        Model: load_model_file(trainer.model_file()),
        Tokenizer: trainer.tokenizer,
        Session: session,
        Scheduler: session.work,
    }


def entries(text):
    """(where, line) for every documented line of every ```python block."""
    for block in re.findall(r"```python\n(.*?)```", text, re.S):
        where = None
        for line in block.splitlines():
            header = re.match(r"#\s*(page:\s*)?(tinygpt[\w.]*)\s*$", line)
            if header:
                where = ("page" if header.group(1) else "module", header.group(2))
                continue
            if not line.strip() or line[0] in " \t#":
                continue
            assert where, f"API.md: {line!r} comes before any '# tinygpt.module' line"
            yield where, line


def call_part(rest):
    """The parameter list of `name(rest...`: up to the matching parenthesis."""
    depth = 1
    for i, ch in enumerate(rest):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0:
            return rest[:i]
    raise AssertionError(f"unbalanced parentheses in {rest!r}")


def documented_parameters(params):
    tree = ast.parse(f"def _({params}): pass").body[0].args
    out = []
    plain = tree.posonlyargs + tree.args
    defaults = [None] * (len(plain) - len(tree.defaults)) + tree.defaults
    for arg, default in zip(plain, defaults):
        out.append((arg.arg, "positional", default))
    if tree.vararg:
        out.append((tree.vararg.arg, "*", None))
    for arg, default in zip(tree.kwonlyargs, tree.kw_defaults):
        out.append((arg.arg, "keyword", default))
    if tree.kwarg:
        out.append((tree.kwarg.arg, "**", None))
    return [
        (name, kind, inspect.Parameter.empty if d is None else ast.literal_eval(d))
        for name, kind, d in out
    ]


KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: "positional",
    inspect.Parameter.POSITIONAL_OR_KEYWORD: "positional",
    inspect.Parameter.VAR_POSITIONAL: "*",
    inspect.Parameter.KEYWORD_ONLY: "keyword",
    inspect.Parameter.VAR_KEYWORD: "**",
}


def code_parameters(obj):
    params = list(inspect.signature(obj).parameters.values())
    if params and params[0].name in ("self", "cls"):
        params = params[1:]  # a method read from its class
    return [(p.name, KINDS[p.kind], p.default) for p in params]


def resolve(where, dotted, page):
    kind, module_name = where
    if kind == "page":
        head, *rest = dotted.split(".")
        assert head in page, f"API.md documents {dotted}() but the page API has no {head!r}"
        obj = page[head]
    else:
        obj = importlib.import_module(module_name)
        rest = dotted.split(".")
    for part in rest:
        assert hasattr(obj, part), f"API.md documents {dotted} but {module_name} has no such thing"
        obj = getattr(obj, part)
    return obj


API_TEXT = (ROOT / "API.md").read_text()
API_LINES = list(entries(API_TEXT))


def test_api_md_has_entries_in_every_part():
    modules = {where for where, _ in API_LINES}
    assert ("page", "tinygpt.session.api") in modules
    assert {"tinygpt.data", "tinygpt.trainer", "tinygpt.generate", "tinygpt.checkpoint",
            "tinygpt.model", "tinygpt.session", "tinygpt.scheduler"} <= {
        name for _, name in modules
    }


@pytest.mark.parametrize(("where", "line"), API_LINES, ids=[line[:40] for _, line in API_LINES])
def test_api_md_line_matches_the_code(where, line):
    page = api(Session())
    signature, constant = SIGNATURE.match(line), CONSTANT.match(line)
    if constant and not signature:
        obj = resolve(where, constant.group(1), page)
        value = eval(constant.group(2).split("#")[0], {"dict": dict})  # noqa: S307 - our own doc
        assert obj == value, f"API.md says {constant.group(1)} == {value!r}; the code has {obj!r}"
        return
    if signature:
        dotted, params = signature.group(1), call_part(signature.group(2))
        obj = resolve(where, dotted, page)
        documented, actual = documented_parameters(params), code_parameters(obj)
        assert documented == actual, (
            f"API.md documents {dotted}({params}) but the code has "
            f"{dotted}{inspect.signature(obj)}: update API.md (or the code)"
        )
        return
    attribute = ATTRIBUTE.match(line)
    assert attribute, f"API.md: {line!r} is no signature, Class.attribute or NAME == value"
    cls = resolve(where, attribute.group(1), page)
    instance = sample_instances().get(cls)
    assert hasattr(cls, attribute.group(2)) or hasattr(instance, attribute.group(2)), (
        f"API.md documents {attribute.group(1)}.{attribute.group(2)}, which the code lacks"
    )


def test_every_page_function_is_documented():
    documented = {
        SIGNATURE.match(line).group(1)
        for where, line in API_LINES
        if where[0] == "page" and SIGNATURE.match(line)
    }
    functions = set(api(Session()))
    assert not functions - documented, (
        f"the page API has functions API.md does not document: {sorted(functions - documented)}"
    )
    assert not documented - functions, (
        f"API.md documents page functions that do not exist: {sorted(documented - functions)}"
    )


def documented_keys(name, optional=False):
    """The keys API.md lists for `name`: after 'keys:' or in the {...} after '->'; a key
    marked `key?` is there only sometimes (left out unless `optional`)."""
    line = next(line for _, line in API_LINES if line.startswith(name + "("))
    if "keys:" in line:
        return {k.strip() for k in line.split("keys:")[1].split(",")}
    braces = re.search(r"->\s*\{([^}]*)\}", line).group(1)
    keys = [k.strip() for k in braces.split(",")]
    return {k.rstrip("?") for k in keys if optional or not k.endswith("?")}


def assert_documented(name, answer, always_all=False):
    required, every = documented_keys(name), documented_keys(name, optional=True)
    assert (every if always_all else required) <= set(answer) <= every, (name, set(answer))


def test_the_run_state_has_the_keys_api_md_lists():
    assert documented_keys("Trainer.state") == set(Trainer(FEW).state())


def test_info_has_the_keys_api_md_lists():
    session = Session()
    session.new_run(FEW, {"steps": 5})
    assert_documented("info", session.info(), always_all=True)  # a run: every key
    assert_documented("train_for", session.train_for(5))
    session.start_generate(2)
    assert_documented("train_for", session.train_for(5, live=True))
    assert_documented("share_model", session.share_model())


# --- the command line, as the README and the lessons show it --------------------------------


def cli_options():
    """{command: {option strings}} of `python -m tinygpt`."""
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.choices and isinstance(a.choices, dict))
    return {
        name: {opt for action in p._actions for opt in action.option_strings}
        for name, p in sub.choices.items()
    }


def commands_in(text):
    """(command, [options]) of every `python -m tinygpt ...` line in a text."""
    for match in re.finditer(r"python3? -m tinygpt (\w+)([^\n`<]*)", text):
        yield match.group(1), re.findall(r"(--[\w-]+)", match.group(2))


@pytest.mark.parametrize("doc", ["README.md", "lessons.html", "API.md"])
def test_every_command_line_shown_exists(doc):
    options = cli_options()
    text = (ROOT / doc).read_text()
    for command, flags in commands_in(text):
        if command == "export" and "export" not in options:
            continue  # being added (another branch); the lessons announce it
        assert command in options, f"{doc} shows `python -m tinygpt {command}`: no such command"
        for flag in flags:
            assert flag in options[command], f"{doc}: `{command}` has no option {flag}"


def test_the_readme_names_every_train_option():
    text = (ROOT / "README.md").read_text()
    missing = [o for o in cli_options()["train"] if o.startswith("--") and o != "--help"]
    missing = [o for o in missing if o not in text]
    assert not missing, f"README.md does not mention these train options: {missing}"


def test_the_packages_reading_order_lists_every_module():
    import tinygpt

    listed = re.findall(r"^    (\w+) ", tinygpt.__doc__, re.M)
    modules = sorted(p.stem for p in (ROOT / "py/tinygpt").glob("*.py") if p.stem != "__init__")
    assert sorted(listed) == modules and len(set(listed)) == len(listed)


def test_the_readmes_count_of_fuzz_targets_is_the_codes():
    import test_fuzz

    source = (ROOT / "tests/py/test_fuzz.py").read_text()
    targets, examples = source.count("\n@given("), test_fuzz.EXAMPLES
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert f"run {targets} Hypothesis targets with {examples} examples each" in readme
