"""How an image becomes a sequence: the four reading orders a recurrent network can take."""

from typing import Literal

import torch

from lstm_mnist.data.mnist_format import MNIST

Order = Literal["rows", "columns", "pixels", "permuted"]
# What one time step holds for each reading order: a row or a column of pixels, or one pixel.
INPUT_SIZE = {"rows": MNIST.side, "columns": MNIST.side, "pixels": 1, "permuted": 1}
# What a step is called in pictures and on the demo page.
STEP_NAME = {"rows": "rows", "columns": "columns", "pixels": "pixels", "permuted": "pixels"}


def fixed_permutation(seed: int) -> torch.Tensor:
    """The pixel order of permuted MNIST: one random permutation of the 784 positions, drawn from ``seed``."""
    return torch.randperm(MNIST.pixels, generator=torch.Generator().manual_seed(seed))


def as_sequence(images: torch.Tensor, order: str, permutation: torch.Tensor | None = None) -> torch.Tensor:
    """``[batch, 28, 28]`` or ``[batch, 1, 28, 28]`` images -> ``[batch, steps, features]`` in ``order``
    (``permutation``: the pixel order of ``permuted``)."""
    if images.dim() == 4 and images.shape[1] == 1:
        images = images.squeeze(1)
    if images.dim() != 3 or tuple(images.shape[1:]) != (MNIST.side, MNIST.side):
        raise ValueError(
            f"expected images of shape [batch, {MNIST.side}, {MNIST.side}] or [batch, 1, {MNIST.side}, {MNIST.side}], "
            f"got {list(images.shape)}"
        )
    if order == "rows":
        return images
    if order == "columns":
        return images.transpose(1, 2)
    pixels = images.flatten(1).unsqueeze(2)  # not reshape(len(images), ...): ONNX export keeps the batch dynamic
    return pixels[:, permutation] if order == "permuted" else pixels
