"""An LSTM that reads MNIST digits row by row, trained with PyTorch Lightning.

Importing the package costs nothing: it changes no process setting and imports no library until
one of the names below is asked for (``from lstm_mnist import DigitClassifier``). The programs
tune the process themselves (``apps/process.py``).
"""

import importlib

# The names a user imports from the package, and the module that defines each.
EXPORTS = {
    "DigitClassifier": "lstm_mnist.training.digit_classifier",
    "MNISTDataModule": "lstm_mnist.data.mnist",
    "RecurrentClassifier": "lstm_mnist.nets.recurrent",
    "pretrained": "lstm_mnist.training.digit_classifier",
    "NumberReader": "lstm_mnist.training.number_reader",
    "NumberLinesDataModule": "lstm_mnist.data.number_lines",
    "ColumnReader": "lstm_mnist.nets.column_reader",
    "pretrained_number_reader": "lstm_mnist.training.number_reader",
}
__all__ = list(EXPORTS)


def __getattr__(name: str):
    if name in EXPORTS:
        return getattr(importlib.import_module(EXPORTS[name]), name)
    from lstm_mnist.moved_names import moved_name  # a name of an earlier version, or none

    return moved_name(__name__, name)
