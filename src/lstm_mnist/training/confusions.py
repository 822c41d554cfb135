"""Which digits a model takes for which: the confusion matrix, and its most frequent mistakes."""

import torch
from torch import Tensor

from lstm_mnist.data.mnist_format import MNIST


def confusion_matrix(labels: Tensor, predicted: Tensor) -> Tensor:
    """``[classes, classes]`` counts: rows the true digit, columns the digit read."""
    return torch.bincount(labels * MNIST.classes + predicted, minlength=MNIST.classes**2).view(
        MNIST.classes, MNIST.classes
    )


def most_confused(confusion: Tensor, count: int) -> list[tuple[int, int, int]]:
    """The ``count`` most frequent mistakes in ``confusion``, as ``(true digit, read as, times)``;
    fewer where fewer kinds of mistake were made."""
    mistakes = confusion.clone()
    mistakes.fill_diagonal_(0)
    times, cells = mistakes.flatten().topk(count)
    return [(int(cell) // MNIST.classes, int(cell) % MNIST.classes, int(n)) for n, cell in zip(times, cells) if n > 0]
