"""Everything an earlier version wrote, brought to today's form in one place: checkpoints and run
folders' ``config.yaml`` from earlier versions still load, test, predict, export and resume.

- **Hyperparameters from before the network was a part of its own**: the LightningModule took the
  LSTM's settings itself, so they sat beside the recipe's (``hidden_size``, ``cell``, ``lr``, ...);
  today they sit under ``net`` as ``class_path`` and ``init_args``.
- **What a model was trained on** (the DataModule's ``trained_on`` in a checkpoint): absent before it
  was recorded (MNIST alone, as runs then could); ``font_digits`` before the data took any source.
- **Class paths from before the package was grouped by concern** (``lstm_mnist.checkpoints.X``), in
  an earlier run's ``config.yaml``, as the message of an interrupted run says to resume with.

Names a user imported from an earlier version (``LitLSTMClassifier``, ...) are the other kind of
history: ``lstm_mnist/moved_names.py``, at the bottom of the package, so that any module can say one
of its names moved.

One remap stays beside its network, as timm keeps them: ``RecurrentClassifier`` reads the weights of
a layer once named ``lstm`` (``nets/recurrent.layer_once_named_lstm``, PyTorch's public
``load_state_dict`` pre-hook), so plain PyTorch loads them too.
``tests/fixtures/`` keeps a checkpoint and a config.yaml of an earlier version.
"""

import inspect
from pathlib import Path

from lstm_mnist.data.font_digits import FontDigits
from lstm_mnist.errors import UserInputError
from lstm_mnist.nets.network import class_path
from lstm_mnist.nets.recurrent import RecurrentClassifier

# What a checkpoint written before a setting existed was trained with.
EARLIER_DEFAULTS = {"cell": "lstm", "order": "rows", "permutation_seed": 0}


def current_hyper_parameters(hyper_parameters: dict, path: str | Path) -> dict:
    """``hyper_parameters`` in today's form: unchanged when they name their network, else the
    recurrent network's settings moved under ``net``."""
    if not isinstance(hyper_parameters, dict):
        raise UserInputError(f"{path} is not a checkpoint of this project: its hyperparameters are not a mapping")
    if "net" in hyper_parameters:
        if not isinstance(hyper_parameters["net"], dict) or "class_path" not in hyper_parameters["net"]:
            raise UserInputError(f"{path} is not a checkpoint of this project: its net has no class_path")
        return hyper_parameters
    network_settings = set(inspect.signature(RecurrentClassifier).parameters)
    init_args = {name: value for name, value in hyper_parameters.items() if name in network_settings}
    if not init_args:
        raise UserInputError(f"{path} was not written by DigitClassifier: it names no network")
    recipe = {name: value for name, value in hyper_parameters.items() if name not in network_settings}
    net = {"class_path": class_path(RecurrentClassifier), "init_args": {**EARLIER_DEFAULTS, **init_args}}
    return {**recipe, "net": net}


# Where a checkpoint holds MNISTDataModule's state_dict: Lightning files it under the class's name
# (read here without importing Lightning; tests/test_earlier_forms.py checks the two agree).
DATA_STATE = "MNISTDataModule"


def current_trained_on(recorded: dict | None) -> dict:
    """A checkpoint's record of what its model learned from (``trained_on`` in the DataModule's
    state), as today's DataModule writes it: ``{"augmentation": dict or None, "sources": [words]}``."""
    recorded = dict(recorded or {})
    sources = list(recorded.get("sources") or [])
    if recorded.get("font_digits"):  # before the data took any source: the one it then could
        sources.append(FontDigits(**recorded.pop("font_digits")).description())
    return {"augmentation": recorded.get("augmentation"), "sources": sources}


# Where the classes a run's config.yaml names lived before the package was grouped by concern.
MOVED_CLASSES = {
    "lstm_mnist.checkpoints.BestCheckpoint": "lstm_mnist.training.kept_checkpoints.BestCheckpoint",
    "lstm_mnist.checkpoints.LatestCheckpoint": "lstm_mnist.training.kept_checkpoints.LatestCheckpoint",
    "lstm_mnist.checkpoints.InterruptCheckpoint": "lstm_mnist.training.interrupt.InterruptCheckpoint",
    "lstm_mnist.predictions.PredictionWriter": "lstm_mnist.training.predictions.PredictionWriter",
    "lstm_mnist.atomic.AtomicCheckpointIO": "lstm_mnist.storage.atomic.AtomicCheckpointIO",
    "lstm_mnist.run_folders.ExclusiveTensorBoardLogger": "lstm_mnist.storage.run_folders.ExclusiveTensorBoardLogger",
}


def with_moved_classes(value):
    """``value`` (a config's content) with every ``class_path`` of ``MOVED_CLASSES`` named as today."""
    if isinstance(value, dict):
        return {
            key: MOVED_CLASSES.get(item, item) if key == "class_path" else with_moved_classes(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [with_moved_classes(item) for item in value]
    return value


# Checkpoints file a callback's state under its class's name; the pictures' class was named
# TensorBoardPictures (it draws for every logger now), and its state keeps that name.
PICTURES_STATE_KEY = "TensorBoardPictures"
