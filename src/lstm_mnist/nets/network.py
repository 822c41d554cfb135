"""What every network of this project is: an ``nn.Module`` that maps images to logits and knows the
settings it was built with, so that a checkpoint can name the network and rebuild it."""

import inspect
from typing import Any

from torch import nn


class Network(nn.Module):
    """Base of the networks: records the arguments of its constructor, defaults included, as
    ``settings``. The LightningModule stores ``class_path`` and ``settings`` in every checkpoint,
    which is all that test, predict, the demo and the export need to rebuild the network.

    A subclass declares its settings once, as its ``__init__``'s arguments (with a line each
    under ``Args:``, which is its ``--help``); nothing else lists them.
    """

    def __new__(cls, *args: Any, **kwargs: Any):
        network = super().__new__(cls)
        arguments = inspect.signature(cls).bind(*args, **kwargs)
        arguments.apply_defaults()
        object.__setattr__(network, "_settings", dict(arguments.arguments))  # before nn.Module's __init__
        return network

    @property
    def settings(self) -> dict[str, Any]:
        """The constructor's arguments this network was built with."""
        return dict(self._settings)

    @classmethod
    def architecture(cls, settings: dict[str, Any]) -> dict[str, Any]:
        """The settings that decide the shapes of the weights or what they mean: a checkpoint trained
        with other values cannot go on training as this network. All of them, unless a network
        says otherwise."""
        return dict(settings)


def class_path(network_class: type) -> str:
    """``module.Class``: how configs and checkpoints name a class."""
    return f"{network_class.__module__}.{network_class.__qualname__}"
