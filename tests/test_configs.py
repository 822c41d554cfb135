"""Every config in configs/ parses and builds, the default callbacks are in the config, and every
model and data flag explains itself in --help."""

import dataclasses
import re

import pytest
import yaml
from lightning.pytorch.callbacks import LearningRateMonitor, TQDMProgressBar

from helpers.paths import ROOT
from helpers.running import run_main
from lstm_mnist.apps.cli import make_cli
from lstm_mnist.training.interrupt import InterruptCheckpoint
from lstm_mnist.training.kept_checkpoints import BestCheckpoint, LatestCheckpoint
from lstm_mnist.training.pictures import Pictures
from lstm_mnist.training.predictions import PredictionWriter

# Every fit config; sweep.yaml is the search space of sweep.py (tests/test_sweep.py reads it).
CONFIGS = sorted(path for path in (ROOT / "configs").glob("*.yaml") if path.name != "sweep.yaml")
DEFAULT_NETWORK = "lstm_mnist.nets.recurrent.RecurrentClassifier"
# The hardware a config asks for, swapped for what every machine has so that the Trainer builds.
ON_THIS_MACHINE = ["--trainer.accelerator", "cpu", "--trainer.devices", "1"]
DEFAULT_CALLBACKS = [
    BestCheckpoint,
    LatestCheckpoint,
    LearningRateMonitor,
    PredictionWriter,
    InterruptCheckpoint,
    TQDMProgressBar,
]


def test_configs_folder_has_every_recipe():
    names = {path.name for path in CONFIGS}
    assert {"default.yaml", "seed.yaml", "best.yaml", "gpu.yaml", "ddp.yaml", "smnist.yaml", "pmnist.yaml"} <= names


def as_written(path) -> dict:
    """A config file's settings with those of the file it ``builds_on`` under them, merged key by key."""
    written = yaml.safe_load(path.read_text())
    base = written.pop("builds_on", None)
    return merged(as_written(path.parent / base), written) if base else written


def unwrapped(part: dict) -> dict:
    """A task's or data's settings as a config may give them: flat, or under ``init_args`` beside
    the ``class_path`` (the class kept as a key)."""
    if "init_args" not in part:
        return dict(part)
    return {"class_path": part["class_path"], **part["init_args"]}


def merged(under: dict, over: dict) -> dict:
    result = dict(under)
    for key, value in over.items():
        result[key] = (
            merged(result[key], value) if isinstance(value, dict) and isinstance(result.get(key), dict) else value
        )
    return result


@pytest.mark.parametrize("path", CONFIGS, ids=[path.stem for path in CONFIGS])
def test_every_config_parses_and_builds_what_it_says(path, tmp_path):
    cli = make_cli(["--config", str(path), *ON_THIS_MACHINE, "--trainer.default_root_dir", str(tmp_path)], run=False)
    written = as_written(path)
    task, data = (unwrapped(written.get(part, {})) for part in ("model", "data"))
    assert type(cli.model).__name__ == task.pop("class_path", "DigitClassifier").rpartition(".")[2]
    assert type(cli.datamodule).__name__ == data.pop("class_path", "MNISTDataModule").rpartition(".")[2]
    for name, value in task.items():
        if name == "net":  # the settings the config gives the network (and its class, where it names one)
            assert cli.model.hparams["net"]["class_path"] == value.get("class_path", DEFAULT_NETWORK)
            for setting, given in value.get("init_args", {}).items():  # a YAML list is a tuple setting's value
                assert cli.model.net.settings[setting] == (tuple(given) if isinstance(given, list) else given), setting
        else:
            assert cli.model.hparams[name] == value, name
    for name, value in data.items():
        built = getattr(cli.datamodule, name)
        if dataclasses.is_dataclass(built):  # a block of settings (augmentation, font_digits): each one given
            for setting, given in value.items():
                assert getattr(built, setting) == (tuple(given) if isinstance(given, list) else given), setting
        else:
            assert built == value, name
    for name, value in written.get("trainer", {}).items():
        if name == "callbacks":
            listed = {callback["class_path"].rsplit(".", 1)[1] for callback in value}
            assert listed <= {type(callback).__name__ for callback in cli.trainer.callbacks}
        elif name == "plugins":
            assert [plugin["class_path"].rsplit(".", 1)[1] for plugin in value] == [
                type(cli.trainer.strategy.checkpoint_io).__name__
            ]
        elif name not in ("accelerator", "devices"):
            assert cli.config.trainer[name] == value, name
    if "seed_everything" in written:
        assert cli.config.seed_everything == written["seed_everything"]
    # every config keeps the default callbacks and the pictures
    kinds = [type(callback) for callback in cli.trainer.callbacks]
    for kind in [*DEFAULT_CALLBACKS, Pictures]:
        assert kind in kinds, kind


def test_seed_config_is_the_reference_recipe():
    config = yaml.safe_load(run_main("fit", "--config", str(ROOT / "configs" / "seed.yaml"), "--print_config").out)
    assert config["model"]["init_args"]["lr"] == 0.001 and config["model"]["init_args"]["schedule"] == "constant"
    assert config["model"]["init_args"]["beta2"] == 0.999  # PyTorch's Adam as the tutorial used it
    assert (
        config["model"]["init_args"]["net"]["init_args"]["hidden_size"] == 64
        and config["model"]["init_args"]["normalize_input"] is False
    )
    assert config["trainer"]["gradient_clip_val"] is None and config["trainer"]["max_epochs"] == 3
    assert config["data"]["init_args"]["batch_size"] == 50 and config["data"]["init_args"]["val_size"] == 1000


def test_the_default_callbacks_are_in_the_printed_config():
    config = yaml.safe_load(run_main("fit", "--print_config").out)
    listed = [callback["class_path"].rsplit(".", 1)[1] for callback in config["trainer"]["callbacks"]]
    assert listed == [kind.__name__ for kind in DEFAULT_CALLBACKS]
    [best] = [
        callback for callback in config["trainer"]["callbacks"] if callback["class_path"].endswith("BestCheckpoint")
    ]
    assert best["init_args"]["monitor"] == "val/acc" and best["init_args"]["mode"] == "max"
    assert config["trainer"]["max_epochs"] == 3 and config["trainer"]["val_check_interval"] == 50


@pytest.mark.parametrize("group", ["model", "data"])
def test_every_model_and_data_flag_has_a_line_of_help(group):
    """Each ``--model.X`` / ``--data.X`` in ``fit --model.help DigitClassifier`` and ``fit
    --data.help MNISTDataModule`` (and each of the network's settings in ``fit --model.net.help``)
    is followed by its own text, not only by the type and default jsonargparse adds; ``fit --help``
    says where to look."""
    assert f"fit --{group}.help" in " ".join(run_main("fit", "--help").out.split())
    task = {"model": "DigitClassifier", "data": "MNISTDataModule"}[group]
    text = run_main("fit", f"--{group}.help", task).out
    if group == "model":
        text += run_main("fit", "--model.net.help", "RecurrentClassifier").out
    names = "(?:model|net)" if group == "model" else group  # the network's help names its settings --net.X
    entries = re.findall(rf"^  (--{names}\.[\w.]+)[^\n]*?(?:  +|\n +)(.*?)(?=\n  --|\n\n)", text, flags=re.M | re.S)
    assert len(entries) >= 10, text[:2000]
    for flag, help_text in entries:
        own_words = re.sub(r"\(type: .*?default: .*?\)$", "", " ".join(help_text.split())).strip()
        assert own_words, f"{flag} has no help"
