"""What a run's settings may say that LightningCLI does not know, turned into its own before
it parses them. Everything else is LightningCLI's and jsonargparse's own: several ``--config``
files compose, ``--model.net.X`` and ``--model.net.init_args.X`` are one setting, ``--model CLASS``
and ``--data CLASS`` choose the task and the data. These three stay because users depend on them:

- **the network's settings directly under ``model``**: ``--model.hidden_size 128`` on the command
  line, or ``model: {hidden_size: 128}`` in a config file, means ``--model.net.hidden_size 128``
  (``model.net.init_args.hidden_size``). It is the spelling the README, the sweep's space and
  design notes use, and the only one that configs and run folders written before the network was
  a part of its own know.
- **``builds_on: FILE``** at the top of a config file: FILE (relative to this one) is read first,
  then this one, which lists only what differs (``pmnist.yaml`` builds on ``smnist.yaml``). Several
  ``--config`` flags do the same, but ``--config configs/robust.yaml`` alone must be the whole
  recipe: jsonargparse has no way for one config file to include another.
- **the class paths of runs written before the package was grouped by concern**
  (``lstm_mnist.checkpoints.BestCheckpoint``, ...; storage/earlier_forms.py), so that an earlier
  run's ``config.yaml`` still resumes it, as the message of an interrupted run says.

A config file that uses neither reaches LightningCLI as its path, untouched.
"""

from pathlib import Path

import yaml

from lstm_mnist.errors import UserInputError
from lstm_mnist.storage.earlier_forms import with_moved_classes

BUILDS_ON = "builds_on"


def spelled_out(args: list[str], shorthand: set[str]) -> list[str]:
    """``args`` with every short network setting (a name in ``shorthand``) and every ``builds_on``
    spelled as LightningCLI takes them."""
    spelled, position = [], 0
    while position < len(args):
        word = args[position]
        name, equals, value = word.partition("=")
        if name == "--config":
            if not equals:
                position += 1
                value = args[position] if position < len(args) else None
            # --config last with no value: left for LightningCLI to refuse
            spelled += ["--config"] if value is None else config_arguments(value, shorthand, seen=())
        elif name.startswith("--model.") and name.removeprefix("--model.") in shorthand:
            spelled.append(f"--model.net.{name.removeprefix('--model.')}{equals}{value}")
        else:
            spelled.append(word)
        position += 1
    return spelled


def config_arguments(path: str, shorthand: set[str], seen: tuple[Path, ...]) -> list[str]:
    """``--config`` arguments for the config file at ``path``: its path when LightningCLI can read
    it as it is, else the files it builds on followed by its own settings as YAML text."""
    file = Path(path)
    if not file.is_file():
        return ["--config", path]  # not a file (YAML text, a typo): LightningCLI's own message
    try:
        content = yaml.safe_load(file.read_text())
    except yaml.YAMLError:
        return ["--config", path]
    if not isinstance(content, dict):
        return ["--config", path]
    base = content.pop(BUILDS_ON, None)
    moved = with_moved_classes(content)
    model = moved.get("model")
    flat = sorted(shorthand & model.keys()) if isinstance(model, dict) else []
    if base is None and not flat and moved == content:
        return ["--config", path]
    content = moved
    if file.resolve() in seen:
        raise UserInputError(f"{path}: {BUILDS_ON} leads back to itself ({' -> '.join(map(str, seen))})")
    before = []
    if base is not None:
        base_file = file.parent / str(base)
        if not base_file.is_file():
            raise UserInputError(f"{path}: {BUILDS_ON} {base} does not exist (it is read relative to {file.parent})")
        before = config_arguments(str(base_file), shorthand, (*seen, file.resolve()))
    if flat:
        net = model.get("net") or {}
        if isinstance(net, str):  # a class path alone
            net = {"class_path": net}
        net.setdefault("init_args", {}).update({name: model.pop(name) for name in flat})
        model["net"] = net
    return [*before, "--config", yaml.safe_dump(content, sort_keys=False)]
