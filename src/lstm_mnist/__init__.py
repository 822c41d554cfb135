"""An LSTM that reads MNIST digits row by row, trained with PyTorch Lightning.

Importing the package costs nothing: it changes no process setting and imports no library until
one of the names below is asked for (``from lstm_mnist import LitLSTMClassifier``). The programs
tune the process themselves (``apps/process.py``).
"""

import importlib

# The names a user imports from the package, and the module that defines each.
EXPORTS = {
    "LitLSTMClassifier": "lstm_mnist.training.recipe",
    "MNISTDataModule": "lstm_mnist.data.mnist",
    "RecurrentClassifier": "lstm_mnist.nets.recurrent",
}
__all__ = list(EXPORTS)


def __getattr__(name: str):
    if name in EXPORTS:
        return getattr(importlib.import_module(EXPORTS[name]), name)
    raise AttributeError(f"module 'lstm_mnist' has no attribute {name!r}")
