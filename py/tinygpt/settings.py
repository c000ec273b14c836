"""Every setting in one table: its type, range, default, URL key, CLI flag, label and help.

The CLI builds its options from this table, the page builds its form from it (through
`schema()`), links carry its URL keys, and every value from a person — typed, in a link,
in a saved run — is checked by `check()` against it. One table, so the limits and
defaults cannot drift apart (as TensorFlow Playground's state.ts does for its page).

Run settings fix a training run; generation settings (temperature, how many, prefix,
seed) fix a batch of names. Recipes are named sets of run settings.
"""

import math
from dataclasses import dataclass, field

from .errors import TinyGPTError, is_finite_number

UINT32 = 2**32 - 1


@dataclass(frozen=True)
class Setting:
    name: str  # the key in Python, JSON and the page's form
    kind: type  # int, float or str
    default: object
    label: str
    help: str
    low: float | None = None  # numbers: the smallest allowed value
    high: float | None = None  # numbers: the largest allowed value
    low_open: bool = False  # the smallest value itself is not allowed (lr > 0)
    choices: tuple = ()  # text: the allowed values
    url: str | None = None  # the key in a link's query (None: not in links)
    cli: str | None = None  # the command-line flag (None: not on the command line)
    group: str = "run"  # "run" or "generate"
    form: bool = True  # a field of the page's form
    step: str = "any"  # the page's <input step>
    optional: bool = False  # may be None (no value)
    cli_default: object = None  # the terminal's default where it differs (sample --n 20)
    what: str = ""  # how messages name it (default: its name, as typed on the command line)

    @property
    def subject(self):
        return self.what or self.name


def _run(name, kind, default, label, help, **kw):
    kw.setdefault("url", name)
    kw.setdefault("cli", "--" + name.replace("_", "-"))
    return Setting(name, kind, default, label, help, **kw)


def _gen(name, kind, default, label, help, **kw):
    return Setting(name, kind, default, label, help, group="generate", **kw)


SETTINGS = (
    _run("steps", int, 1000, "Steps", "How many training steps; the learning rate falls "
         "linearly over them.", low=1, high=1_000_000, step="1"),
    # A step runs whole in one task of the page: 8 names (about 30 ms in Pyodide at the
    # default size) is as many as keep it short. Bigger batches: the PyTorch export.
    _run("batch", int, 1, "Names per step (batch)", "Documents each step averages its loss "
         "and gradient over; Adam moves the weights once per step.", low=1, high=8, step="1"),
    _run("lr", float, 0.01, "Learning rate", "The size of Adam's steps at the start; it "
         "falls linearly to lr/steps at the last step.", low=0, low_open=True, high=10,
         what="The learning rate (lr)"),
    _run("seed", int, 42, "Seed", "Fixes the shuffle, the initial weights and so every "
         "loss: the same seed gives the same run.", low=0, high=UINT32, step="1"),
    _run("engine", str, "fast", "Engine", "fast: whole rows at once. scalar: a Value per "
         "number, as in the lessons (about 20x slower). Same numbers.",
         choices=("fast", "scalar")),
    _run("n_embd", int, 16, "Embedding size (n_embd)", "Numbers per token vector.",
         low=1, high=256, step="1"),
    _run("n_head", int, 4, "Heads (n_head)", "Attention heads; each gets n_embd / n_head "
         "of the vector.", low=1, high=64, step="1"),
    _run("n_layer", int, 1, "Layers (n_layer)", "Transformer blocks (attention + MLP).",
         low=1, high=8, step="1"),
    _run("block_size", int, 16, "Context (block_size)", "Positions the model sees: BOS and "
         "up to block_size - 1 letters; also the number of wpe rows.",
         low=1, high=256, step="1"),
    _run("val_fraction", float, 0.0, "Validation split (0-0.5)", "Share of the names held "
         "out to measure the loss on names the model never trains on.",
         low=0, high=0.5, url="val", step="0.05",
         what="The validation split (val_fraction)"),
    # Adam's constants: microgpt.py's values. The betas are in the form, links and the
    # CLI (the five-minutes recipe uses beta2 0.999); eps is settable from Python only.
    _run("beta1", float, 0.85, "Adam beta1", "Decay of the gradient's running mean.",
         low=0, high=0.9999, step="0.01"),
    _run("beta2", float, 0.99, "Adam beta2", "Decay of the squared gradient's running "
         "mean: closer to 1 averages over more steps.", low=0, high=0.99999,
         step="0.001"),
    _run("eps", float, 1e-8, "Adam eps", "Keeps the update finite where the gradient's "
         "running mean square is near 0.", low=1e-12, high=1, url=None, cli=None, form=False),
    # Generating names.
    _gen("n", int, 10, "How many", "Names to generate.", low=1, high=100, step="1",
         cli="--n", url=None, cli_default=20, what="The number of names"),
    _gen("temperature", float, 0.5, "Temperature", "Logits are divided by it before the "
         "softmax: below 1 safer names, above 1 wilder ones.", low=0.01, high=10,
         cli="--temperature", url=None, step="0.05", what="The temperature"),
    _gen("prefix", str, "", "Starts with (optional)", "Letters every name starts with; "
         "at most block_size - 1 of them.", cli="--prefix", url=None, what="The prefix"),
    _gen("sample_seed", int, None, "Sampling seed (optional)", "The same seed and "
         "temperature give the same names.", low=0, high=UINT32, optional=True,
         cli="--seed", url=None, step="1", what="The sampling seed"),
)
BY_NAME = {s.name: s for s in SETTINGS}
RUN = tuple(s for s in SETTINGS if s.group == "run")
RUN_DEFAULTS = {s.name: s.default for s in RUN}
GENERATE = tuple(s for s in SETTINGS if s.group == "generate")
MAX_PREFIX = 255  # block_size at most 256: BOS and 255 letters fill it


def _number(x):
    return f"{x:,}" if isinstance(x, int) or float(x).is_integer() and abs(x) >= 1000 else f"{x:g}"


def _describe_range(s):
    low, high = _number(s.low), _number(s.high)
    return f"above {low} and at most {high}" if s.low_open else f"between {low} and {high}"


def check(name, value):
    """`value` as setting `name` wants it, or a TinyGPTError naming the setting and its range."""
    s = BY_NAME.get(name)
    if s is None:
        raise TinyGPTError(f"Unknown setting {short(name)}.")
    if value is None and s.optional:
        return None
    if s.kind is str:
        if not isinstance(value, str):
            raise TinyGPTError(f"{s.subject} must be text, not {short(value)}.")
        if s.choices and value not in s.choices:
            raise TinyGPTError(f"{s.subject} must be one of: {', '.join(s.choices)}.")
        if name == "prefix" and len(value) > MAX_PREFIX:
            raise TinyGPTError(f"{s.subject} can be at most {MAX_PREFIX} characters long.")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TinyGPTError(f"{s.subject} must be a number, not {short(value)}.")
    if not is_finite_number(value):  # inf, nan, or an int no float can hold
        raise TinyGPTError(f"{s.subject} must be a finite number {_describe_range(s)}.")
    if s.kind is int and value != int(value):
        raise TinyGPTError(f"{s.subject} must be a whole number, not {value}.")
    too_low = value <= s.low if s.low_open else value < s.low
    if too_low or value > s.high:
        hint = f" (default {s.default})" if s.default is not None else ""
        raise TinyGPTError(f"{s.subject} must be {_describe_range(s)}; it is {value}{hint}.")
    return int(value) if s.kind is int else float(value)


def short(value):
    """A value as a message may quote it: its repr, cut to 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_model_shape(n_embd, n_head):
    if n_embd % n_head:
        raise TinyGPTError(
            f"n_embd ({n_embd}) must be divisible by n_head ({n_head}): "
            "each head gets an equal slice of the embedding."
        )


def check_run_settings(settings):
    """All run settings, defaults filled in, each checked, and n_embd / n_head together."""
    if not isinstance(settings, dict):
        raise TinyGPTError("The settings must be a set of named values.")
    unknown = sorted(set(settings) - set(RUN_DEFAULTS), key=str)
    if unknown:  # quoted and cut, as any text from outside in a message (a name may hold "\n")
        named = ", ".join(map(short, unknown[:5])) + (", ..." if len(unknown) > 5 else "")
        raise TinyGPTError(f"Unknown setting: {named}.")
    s = {**RUN_DEFAULTS, **settings}
    out = {name: check(name, s[name]) for name in RUN_DEFAULTS}
    check_model_shape(out["n_embd"], out["n_head"])
    return out


def validate(settings):
    """{name: message} for every run setting that is wrong alone or with the others."""
    if not isinstance(settings, dict):
        return {"": "The settings must be a set of named values."}
    problems = {}
    for name, value in settings.items():
        if name not in RUN_DEFAULTS:
            problems[str(name)[:40]] = f"Unknown setting {short(name)}."
            continue
        try:
            check(name, value)
        except TinyGPTError as e:
            problems[name] = str(e)
    if not problems:
        s = {**RUN_DEFAULTS, **settings}
        try:
            check_model_shape(int(s["n_embd"]), int(s["n_head"]))
        except TinyGPTError as e:
            problems["n_head"] = str(e)
    return problems


def validate_generate(values):
    """{name: message} for the generation settings (n, temperature, prefix, sample_seed)."""
    if not isinstance(values, dict):
        return {"": "The settings must be a set of named values."}
    problems = {}
    for s in GENERATE:
        value = values.get(s.name, s.default)
        if value is None and s.name == "prefix":
            value = ""
        if value is None and not s.optional:
            problems[s.name] = "Fill this in."
            continue
        try:
            check(s.name, value)
        except TinyGPTError as e:
            problems[s.name] = str(e)
    return problems


def check_generate(n, temperature, prefix, seed):
    """The generation settings, checked: (n, temperature, prefix, seed)."""
    return check("n", n), check("temperature", temperature), check("prefix", prefix), check(
        "sample_seed", seed
    )


# --- recipes ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Recipe:
    name: str
    title: str
    expect: str  # what it reaches, measured (README "Recipes" says how and where)
    settings: dict = field(default_factory=dict)  # changes from the defaults


RECIPES = {
    r.name: r
    for r in (
        Recipe("microgpt", "microgpt.py's run", "Karpathy's microgpt.py exactly: one name "
               "per step, 1000 steps, no names held out. With 10% of US first names held "
               "out it reaches a held-out loss of about 2.28, in seconds.", {}),
        # Found by scripts/search_recipes.py (see the README's Recipes): in the page, 8 names
        # per step train about twice as many names per second as 1, and at a minute's worth
        # of names lr 0.01 does best; over five minutes a lower rate does, with Adam's
        # beta2 at 0.999 (a longer memory of the gradient's scale than microgpt's 0.99).
        Recipe("one-minute", "Better names in a minute", "Held-out loss 2.14 on US first "
               "names (microgpt's run: 2.28), in under a minute of training.",
               {"steps": 1000, "batch": 8, "lr": 0.01, "val_fraction": 0.1}),
        Recipe("five-minutes", "Best in five minutes", "Held-out loss 2.07 on US first "
               "names, in under five minutes of training.",
               {"steps": 5000, "batch": 8, "lr": 0.007, "beta2": 0.999,
                "val_fraction": 0.1}),
    )
}
DEFAULT_RECIPE = "microgpt"
# What microgpt.py prints after its run: this many names at this temperature, drawn with
# the run's own random generator (the one that shuffled the names and drew the weights).
# The CLI's `train` prints them; the page's "Generate as microgpt.py does" draws them.
MICROGPT_SAMPLES = {"n": 20, "temperature": 0.5}


def recipe_settings(name):
    """The full run settings of a recipe."""
    recipe = RECIPES.get(name) if isinstance(name, str) else None
    if recipe is None:
        raise TinyGPTError(
            f"There is no recipe called {short(name)}; the recipes are: {', '.join(RECIPES)}."
        )
    return check_run_settings(recipe.settings)


# --- links: the settings in a URL query --------------------------------------------------
MAX_QUERY_VALUE = 40  # characters of one value that a link may carry


def from_query(pairs):
    """Settings from a link's query, as [(key, value)] strings.

    Returns {"recipe", "settings" (recipe + changes, raw where a value is not a number),
    "dataset", "problems" ({name: message})}. Nothing here raises: a bad link is shown as
    messages next to the fields, and the page keeps working.
    """
    recipe, dataset, raw, problems = DEFAULT_RECIPE, None, {}, {}
    by_url = {s.url: s for s in RUN if s.url}
    for key, value in pairs[:100] if isinstance(pairs, list) else []:
        if not (isinstance(key, str) and isinstance(value, str)):
            continue
        value = value[:MAX_QUERY_VALUE]
        if key == "recipe":
            if value in RECIPES:
                recipe = value
            else:
                problems["recipe"] = f"The link asks for a recipe called {short(value)}, " \
                    f"which TinyGPT does not have; the recipes are: {', '.join(RECIPES)}."
        elif key == "dataset":
            dataset = value
        elif key in by_url:
            raw[by_url[key].name] = _parse(by_url[key], value)
    settings = {**recipe_settings(recipe), **raw}
    problems.update(validate(raw))
    return {"recipe": recipe, "settings": settings, "dataset": dataset, "problems": problems}


def _parse(s, text):
    """A query value as the setting's type when it reads as one; else the text itself (so
    `check` can say what is wrong with it)."""
    if s.kind is str:
        return text
    try:
        number = float(text.strip())
    except ValueError:
        return text
    if not math.isfinite(number):
        return text
    return int(number) if s.kind is int and number == int(number) else number


def to_query(settings, recipe=DEFAULT_RECIPE, dataset=None):
    """[(key, value)] for a link: the recipe, then every setting that differs from it.

    Only the changes go in, so a link stays short and says what was changed.
    """
    base = recipe_settings(recipe)
    pairs = [] if recipe == DEFAULT_RECIPE else [("recipe", recipe)]
    for s in RUN:
        if s.url and s.name in settings and settings[s.name] != base[s.name]:
            pairs.append((s.url, _format(settings[s.name])))
    if dataset:
        pairs.append(("dataset", dataset))
    return pairs


def _format(value):
    if isinstance(value, float) and value == int(value) and abs(value) < 1e15:
        return repr(value)  # 0.0, 1.0: keeps the float visible
    return str(value)


# --- the page's form and the command line ---------------------------------------------------
def schema():
    """The table as JSON for the page: it builds its form and reads links from this."""
    return {
        "settings": [
            {
                "name": s.name, "kind": s.kind.__name__, "default": s.default,
                "label": s.label, "help": s.help, "low": s.low, "high": s.high,
                "low_open": s.low_open, "choices": list(s.choices), "url": s.url,
                "group": s.group, "form": s.form, "step": s.step, "optional": s.optional,
            }
            for s in SETTINGS
        ],
        "recipes": [
            {"name": r.name, "title": r.title, "expect": r.expect,
             "settings": recipe_settings(r.name)}
            for r in RECIPES.values()
        ],
        "default_recipe": DEFAULT_RECIPE,
        "microgpt_samples": dict(MICROGPT_SAMPLES),
        "max_prefix": MAX_PREFIX,
    }


def add_cli_options(parser, group, defaults=True):
    """argparse options for every setting of `group` that has a CLI flag."""
    for s in SETTINGS:
        if s.group != group or not s.cli:
            continue
        default = s.cli_default if s.cli_default is not None else s.default
        kw = {"dest": s.name, "help": s.help, "default": default if defaults else None}
        if default not in (None, ""):
            kw["help"] += f" (default: {default}" + (")" if defaults else ", or the recipe's)")
        if s.choices:
            kw["choices"] = list(s.choices)
        elif s.kind is not str:
            kw["type"] = s.kind
            kw["metavar"] = "N" if s.kind is int else "X"
        parser.add_argument(s.cli, **kw)
