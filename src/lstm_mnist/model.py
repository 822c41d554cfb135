"""The network itself: a recurrent layer that reads an MNIST image as a sequence, and a classifier.

Plain PyTorch (no Lightning) so that it can be studied, tested and reused on its own.
"""

from typing import Literal

import torch
from torch import nn

Order = Literal["rows", "columns", "pixels", "permuted"]
Cell = Literal["lstm", "gru", "rnn"]
CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
SIDE = 28  # MNIST images are SIDE x SIDE pixels

# What one time step holds for each reading order: a row or a column of 28 pixels, or one pixel.
INPUT_SIZE = {"rows": SIDE, "columns": SIDE, "pixels": 1, "permuted": 1}
STEP_NAME = {"rows": "rows", "columns": "columns", "pixels": "pixels", "permuted": "pixels"}


def fixed_permutation(seed: int) -> torch.Tensor:
    """The pixel order of permuted MNIST: one random permutation of the 784 positions, drawn from ``seed``."""
    return torch.randperm(SIDE * SIDE, generator=torch.Generator().manual_seed(seed))


class LSTMClassifier(nn.Module):
    """Reads a 28x28 image as a sequence and classifies the recurrent layer's final hidden state.

    ``order`` turns the image into the sequence: 28 steps of a row (``rows``, the tutorial's
    reading) or of a column (``columns``), or 784 steps of one pixel, in reading order
    (``pixels``: sequential MNIST) or in one fixed random order (``permuted``: permuted MNIST).
    The permutation is a buffer, so it travels in the state dict and every process that loads
    the model reads pixels in the same order.

    The classifier sees the last layer's final hidden state: ``h_n[-1]`` for a one-directional
    layer (the same vector as ``output[:, -1]``), and the forward and backward final states of
    the last layer side by side for a bidirectional one (there ``output[:, -1]`` would hold the
    backward direction after reading a single step, which is why ``h_n`` is used).

    Args:
        hidden_size: features in the hidden state.
        num_layers: recurrent layers stacked on each other.
        dropout: dropout between stacked layers (none after the last).
        bidirectional: also read the sequence backwards.
        forget_bias: LSTM only: replaces the initial input-side bias (``bias_ih``) of the forget
            gates; 0 keeps PyTorch's initialisation.
        cell: ``lstm``, ``gru`` or ``rnn`` (an Elman RNN with tanh).
        order: ``rows``, ``columns``, ``pixels`` or ``permuted``.
        permutation_seed: draws the pixel order for ``permuted``.
        num_classes: outputs of the classifier.
    """

    def __init__(
        self,
        hidden_size: int = 64,
        num_layers: int = 1,
        dropout: float = 0.0,
        bidirectional: bool = False,
        forget_bias: float = 0.0,
        cell: Cell = "lstm",
        order: Order = "rows",
        permutation_seed: int = 0,
        num_classes: int = 10,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {', '.join(CELLS)}, got {cell!r}")
        if order not in INPUT_SIZE:
            raise ValueError(f"order must be one of {', '.join(INPUT_SIZE)}, got {order!r}")
        if forget_bias and cell != "lstm":
            raise ValueError(f"forget_bias is a setting of LSTM cells, not of {cell}")
        self.cell, self.order = cell, order
        self.rnn = CELLS[cell](
            input_size=INPUT_SIZE[order],
            hidden_size=hidden_size,
            num_layers=num_layers,
            batch_first=True,
            dropout=dropout,
            bidirectional=bidirectional,
        )
        if forget_bias:
            # Start with the forget gate open so early gradients reach the first steps
            # (Jozefowicz et al., 2015). PyTorch orders each bias as input, forget, cell, output gates.
            with torch.no_grad():
                for name, bias in self.rnn.named_parameters():
                    if name.startswith("bias_ih"):
                        bias[hidden_size : 2 * hidden_size] = forget_bias
        if order == "permuted":
            self.register_buffer("permutation", fixed_permutation(permutation_seed))
        directions = 2 if bidirectional else 1
        self.classifier = nn.Linear(directions * hidden_size, num_classes)

    def as_sequence(self, images: torch.Tensor) -> torch.Tensor:
        """``[batch, 28, 28]`` or ``[batch, 1, 28, 28]`` images -> ``[batch, steps, features]``, the recurrent input."""
        if images.dim() == 4 and images.shape[1] == 1:
            images = images.squeeze(1)
        if images.dim() != 3 or tuple(images.shape[1:]) != (SIDE, SIDE):
            raise ValueError(
                f"expected images of shape [batch, 28, 28] or [batch, 1, 28, 28], got {list(images.shape)}"
            )
        if self.order == "rows":
            return images
        if self.order == "columns":
            return images.transpose(1, 2)
        pixels = images.flatten(1).unsqueeze(2)  # not reshape(len(images), ...): ONNX export keeps the batch dynamic
        return pixels[:, self.permutation] if self.order == "permuted" else pixels

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Class scores (logits) of shape ``[batch, num_classes]``."""
        _, h_n = self.rnn(self.as_sequence(images))
        if self.cell == "lstm":
            h_n = h_n[0]  # (h_n, c_n)
        if self.rnn.bidirectional:
            # h_n is [num_layers * 2, batch, hidden]; the last layer's two directions are the last two rows.
            final = torch.cat([h_n[-2], h_n[-1]], dim=1)
        else:
            final = h_n[-1]
        return self.classifier(final)

    def logits_after_each_step(self, images: torch.Tensor) -> torch.Tensor:
        """The classifier applied to ``output[:, t]`` for every step t: ``[batch, steps, num_classes]``.

        Shows how the answer forms as the network reads further into the image. For a
        one-directional layer the last step's scores equal ``forward``'s.
        """
        output, _ = self.rnn(self.as_sequence(images))
        return self.classifier(output)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        # Checkpoints written before the cell could be chosen name the layer "lstm".
        for key in [k for k in state_dict if k.startswith(prefix + "lstm.")]:
            state_dict[prefix + "rnn." + key[len(prefix + "lstm.") :]] = state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
