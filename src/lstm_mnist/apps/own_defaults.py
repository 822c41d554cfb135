"""A class chosen in a config or on the command line gets its own defaults, not its predecessor's.

jsonargparse, when ``class_path`` changes, keeps every ``init_args`` value of the previous class
that the new class also takes, defaults included (omni-us/jsonargparse#460, open): with
``--model.net.class_path mymod.Mlp``, an ``Mlp(hidden_size=300)`` was built with the LSTM's 64,
silently. jsonargparse's own ``parse_args(..., defaults=False)`` tells which values a user gave;
each class chosen away from the default config's gets, as a last ``--config``, those values over
its own defaults, so that the run and ``--print_config`` both show exactly that.
"""

import contextlib
import importlib
import inspect
import io

import yaml
from jsonargparse import Namespace

# The settings whose value is a class a user may choose, as keys of the config.
CHOSEN_CLASSES = ("model", "data", "model.init_args.net")
PLAIN = (type(None), bool, int, float, str)


def with_own_defaults(
    parser, args: list[str], default_classes: dict[str, str], subcommands: tuple[str, ...]
) -> list[str]:
    """``args`` followed by one ``--config`` that gives each class the user chose in place of
    ``default_classes[key]`` its own defaults under the values the user gave; ``args`` unchanged
    when no class was chosen, or when they do not parse (the real parse then says why)."""
    if not any(map(may_choose_a_class, args)):
        return args  # nothing can name a class: no second parse (11 ms a run)
    probe = [word for word in args if not word.startswith("--print_config")]
    if any(word in ("-h", "--help") or word.endswith(".help") for word in probe):
        return args
    # Parsed without defaults, the settings of the default classes have no class to belong to:
    # name those classes first (they count as not chosen).
    start = next((index + 1 for index, word in enumerate(probe) if word in subcommands), 0)
    classes = {}
    for key in CHOSEN_CLASSES:
        place(classes, key, {"class_path": default_classes[key], "init_args": {}})
    probe[start:start] = ["--config", yaml.safe_dump(classes)]
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            given = parser.parse_args(probe, defaults=False)
    except SystemExit:
        return args
    subcommand = given.get("subcommand")
    scope = given[subcommand] if subcommand else given
    settings = {}
    for key in CHOSEN_CLASSES:
        chosen = scope.get(key)
        if not isinstance(chosen, Namespace) or chosen.get("class_path") in (None, default_classes.get(key)):
            continue
        own = own_defaults(chosen.class_path)
        asked = chosen.get("init_args") or Namespace()
        place(settings, key, {"class_path": chosen.class_path, "init_args": {**own, **asked.as_dict()}})
    if not settings:
        return args
    try:
        return [*args, "--config", yaml.safe_dump(settings, sort_keys=False)]
    except yaml.YAMLError:  # a value YAML cannot write (an object): jsonargparse's own merge, as before
        return args


def may_choose_a_class(word: str) -> bool:
    """Whether a command-line word can name a class for the task, the data or the network: a config
    file, ``--model X``, ``--data X``, ``--model.net X`` or a ``class_path``."""
    name = word.partition("=")[0]
    return name in ("-c", "--config", "--model", "--data", "--model.net", "--model.init_args.net") or name.endswith(
        ".class_path"
    )


def own_defaults(class_path: str) -> dict:
    """The plain defaults of the constructor of the class that ``class_path`` names (none when it
    cannot be imported: the real parse says so)."""
    module_name, _, name = class_path.rpartition(".")
    try:
        found = getattr(importlib.import_module(module_name), name)
        parameters = inspect.signature(found).parameters.values()
    except (ImportError, AttributeError, ValueError, TypeError):
        return {}
    return {p.name: p.default for p in parameters if isinstance(p.default, PLAIN)}


def place(settings: dict, key: str, value: dict) -> None:
    """``value`` at ``key`` of ``settings``, over what an enclosing class put there."""
    *parents, last = key.split(".")
    inner = settings
    for part in parents:
        inner = inner.setdefault(part, {})
    inner[last] = {**value, "init_args": {**value["init_args"], **inner.get(last, {}).get("init_args", {})}}
