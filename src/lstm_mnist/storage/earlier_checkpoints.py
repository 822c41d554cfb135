"""Checkpoints written before the network was a part of its own still load, test, predict, export
and resume.

Until then the LightningModule took the LSTM's settings itself, so a checkpoint's hyperparameters
listed them beside the recipe's (``hidden_size``, ``cell``, ``lr``, ...); today they sit under
``net`` as ``class_path`` and ``init_args``. ``tests/fixtures/`` keeps such a checkpoint.
"""

import inspect
from pathlib import Path

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
        raise UserInputError(f"{path} was not written by LitLSTMClassifier: it names no network")
    recipe = {name: value for name, value in hyper_parameters.items() if name not in network_settings}
    net = {"class_path": class_path(RecurrentClassifier), "init_args": {**EARLIER_DEFAULTS, **init_args}}
    return {**recipe, "net": net}
