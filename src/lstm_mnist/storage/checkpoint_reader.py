"""Reading a checkpoint safely: only tensors and plain values are unpickled, the file must be one of
this project's, and the network it names must be one this package knows."""

import importlib
import pickle
import sys
import zipfile
from pathlib import Path
from typing import Any

import torch

from lstm_mnist.errors import UserInputError
from lstm_mnist.nets.network import Network
from lstm_mnist.storage.earlier_forms import DATA_STATE, current_hyper_parameters, current_trained_on

# Networks a checkpoint may name without having been imported first: the project's own.
NETWORK_PACKAGE = "lstm_mnist.nets."


def read_checkpoint(path: str | Path, map_location=None) -> dict:
    """Load a checkpoint the safe way and check that it is one of this project's; what an earlier
    version wrote in it brought to today's form (storage/earlier_forms.py).

    ``torch.load(weights_only=True)`` unpickles only tensors and plain values, so a crafted file
    cannot run code. Whether the weights fit the hyperparameters is checked where the model is
    built (``DigitClassifier.from_checkpoint``).
    """
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"--ckpt_path {path} does not exist")
    if not zipfile.is_zipfile(path):  # torch.save has written zip archives since PyTorch 1.6
        raise UserInputError(f"{path} is not a PyTorch checkpoint (not the zip archive torch.save writes)")
    try:
        checkpoint = torch.load(path, map_location=map_location or "cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if "Weights only load failed" in str(error):
            raise UserInputError(
                f"{path} was refused: it holds Python objects, not only tensors and plain values, and "
                "loading them could run code (nothing in it was run); use checkpoints written by this project"
            ) from error
        raise UserInputError(f"{path} is not a PyTorch checkpoint (it cannot be unpickled)") from error
    except Exception as error:  # torch.load fails in many ways on a file that is not a checkpoint
        raise UserInputError(
            f"{path} is not a PyTorch checkpoint, or it is truncated ({type(error).__name__}: {error})"
        ) from error
    if not isinstance(checkpoint, dict) or not {"state_dict", "hyper_parameters"} <= checkpoint.keys():
        raise UserInputError(f"{path} is not a checkpoint of this project: it has no state_dict and hyper_parameters")
    checkpoint["hyper_parameters"] = current_hyper_parameters(checkpoint["hyper_parameters"], path)
    data_state = checkpoint.get(DATA_STATE)
    if isinstance(data_state, dict):
        data_state["trained_on"] = current_trained_on(data_state.get("trained_on"))
    network_class(checkpoint["hyper_parameters"]["net"].get("class_path"), path)
    return checkpoint


def network_class(class_path: Any, path: str | Path = "the config") -> type[Network]:
    """The network class that ``class_path`` names, when it is one of this package's or already
    imported: a checkpoint cannot make us import a module of its choosing."""
    module_name, _, name = str(class_path).rpartition(".")
    if not module_name.startswith(NETWORK_PACKAGE) and module_name not in sys.modules:
        raise UserInputError(
            f"{path} names the network {class_path}, which is neither in {NETWORK_PACKAGE.rstrip('.')} nor "
            "imported: import its module first if you trust it"
        )
    try:
        found = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as error:
        raise UserInputError(f"{path} names the network {class_path}, which does not exist") from error
    if not (isinstance(found, type) and issubclass(found, Network)):
        raise UserInputError(f"{path} names {class_path} as its network, which is not a network of this project")
    return found


def build_network(config: dict) -> Network:
    """The network a config or a checkpoint describes (``class_path`` and ``init_args``)."""
    return network_class(config["class_path"])(**config.get("init_args", {}))


def architecture_differences(checkpoint: dict, net_config: dict) -> list[tuple[str, object, object]]:
    """``(setting, in the checkpoint, in the config)`` for each setting that decides the weights'
    shapes or meaning (the network's ``architecture``) and differs; the network's class first."""
    stored = checkpoint["hyper_parameters"]["net"]
    if stored["class_path"] != net_config["class_path"]:
        return [("net", stored["class_path"], net_config["class_path"])]
    architecture = network_class(stored["class_path"]).architecture
    stored_settings = architecture(stored.get("init_args", {}))
    asked_settings = architecture(net_config.get("init_args", {}))
    return [
        (name, stored_settings[name], asked_settings[name])
        for name in stored_settings
        if name in asked_settings and stored_settings[name] != asked_settings[name]
    ]
