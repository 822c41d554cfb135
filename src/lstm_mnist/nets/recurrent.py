"""Recurrent networks (LSTM, GRU, Elman RNN) that read an image as a sequence, and a classifier.

Imports torch only, so that the network can be studied, tested and reused without Lightning.
"""

from typing import Any, Literal

import torch
from torch import nn

from lstm_mnist.data.mnist_format import MNIST
from lstm_mnist.errors import UserInputError
from lstm_mnist.nets.network import Network
from lstm_mnist.nets.reading_order import INPUT_SIZE, STEP_NAME, Order, as_sequence, fixed_permutation

Cell = Literal["lstm", "gru", "rnn"]
CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
LSTM_FORGET_BIAS = 1.0  # what an unset forget_bias means for an LSTM: forget gates open at the start
CHART_POINTS = 28  # reading lengths a bidirectional network's "how the answer forms" is drawn at


class RecurrentClassifier(Network):
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
        hidden_size: features in the recurrent layer's hidden state.
        num_layers: recurrent layers stacked on each other.
        dropout: dropout between stacked layers (none after the last).
        bidirectional: also read the sequence backwards.
        forget_bias: LSTM only: the initial input-side bias (``bias_ih``) of the forget gates; unset
            means 1.0 (gates open, so early gradients reach the first steps), 0 keeps PyTorch's
            initialisation. Setting it for a GRU or RNN is an error.
        cell: the recurrent layer: ``lstm`` (``nn.LSTM``), ``gru`` (``nn.GRU``) or ``rnn``
            (``nn.RNN``, tanh).
        order: how an image becomes a sequence: ``rows`` (28 steps of 28 pixels), ``columns``,
            ``pixels`` (784 steps of one pixel: sequential MNIST) or ``permuted`` (784 pixels in
            one fixed random order: permuted MNIST).
        permutation_seed: draws the pixel order of ``permuted`` (kept in checkpoints).
        num_classes: outputs of the classifier.
    """

    def __init__(
        self,
        hidden_size: int = 64,
        num_layers: int = 1,
        dropout: float = 0.0,
        bidirectional: bool = False,
        forget_bias: float | None = None,
        cell: Cell = "lstm",
        order: Order = "rows",
        permutation_seed: int = 0,
        num_classes: int = MNIST.classes,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise UserInputError(f"cell must be one of {', '.join(CELLS)}, got {cell!r}")
        if order not in INPUT_SIZE:
            raise UserInputError(f"order must be one of {', '.join(INPUT_SIZE)}, got {order!r}")
        if forget_bias and cell != "lstm":
            raise UserInputError(f"forget_bias is a setting of LSTM cells only, not of cell {cell}: leave it unset")
        if forget_bias is None:
            forget_bias = LSTM_FORGET_BIAS if cell == "lstm" else 0.0
        self.cell, self.order = cell, order
        self.register_load_state_dict_pre_hook(layer_once_named_lstm)
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

    @classmethod
    def architecture(cls, settings: dict[str, Any]) -> dict[str, Any]:
        """All settings but the initialisation (``forget_bias``) and the regularisation (``dropout``);
        the permutation seed only where the pixels are permuted."""
        kept = {name: value for name, value in settings.items() if name not in ("forget_bias", "dropout")}
        if kept.get("order") != "permuted":
            kept.pop("permutation_seed", None)
        return kept

    @property
    def description(self) -> str:
        """The network in a few words: ``LSTM of 64 units reading rows``, ``2-layer bidirectional LSTM
        of 128 units reading rows``."""
        layers = f"{self.rnn.num_layers}-layer " if self.rnn.num_layers > 1 else ""
        both_ways = "bidirectional " if self.rnn.bidirectional else ""
        return f"{layers}{both_ways}{self.cell.upper()} of {self.rnn.hidden_size} units reading {self.order}"

    @property
    def step_name(self) -> str:
        """What one time step reads: ``rows``, ``columns`` or ``pixels``."""
        return STEP_NAME[self.order]

    def as_sequence(self, images: torch.Tensor) -> torch.Tensor:
        """``[batch, 28, 28]`` or ``[batch, 1, 28, 28]`` images -> ``[batch, steps, features]``, the recurrent input."""
        return as_sequence(images, self.order, getattr(self, "permutation", None))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Class scores (logits) of shape ``[batch, num_classes]``."""
        return self.classify(self.as_sequence(images))

    def classify(self, sequence: torch.Tensor) -> torch.Tensor:
        """Logits for ``[batch, steps, features]`` sequences of any length: the answer after reading them."""
        _, h_n = self.rnn(sequence)
        if self.cell == "lstm":
            h_n = h_n[0]  # (h_n, c_n)
        if self.rnn.bidirectional:
            # h_n is [num_layers * 2, batch, hidden]; the last layer's two directions are the last two rows.
            final = torch.cat([h_n[-2], h_n[-1]], dim=1)
        else:
            final = h_n[-1]
        return self.classifier(final)

    def chart_steps(self) -> list[int]:
        """The reading lengths t that ``answers_after_steps`` answers after: every step for a
        one-directional layer (one pass gives them all), else ``CHART_POINTS`` evenly spaced ones
        (each is a run of its own)."""
        steps = MNIST.pixels // INPUT_SIZE[self.order]  # 28 rows or columns, 784 pixels
        if not self.rnn.bidirectional:
            return list(range(1, steps + 1))
        return [round(steps * point / CHART_POINTS) for point in range(1, CHART_POINTS + 1)]

    def answers_after_steps(self, images: torch.Tensor) -> tuple[list[int], torch.Tensor]:
        """What the network would answer had it stopped reading after step t, for each t of
        ``chart_steps``: ``(steps, logits [batch, len(steps), num_classes])``. The last is the answer.

        One-directional, the answer after t steps is the classifier on ``output[:, t - 1]`` (the
        hidden state after step t is all that reading t steps leaves), so one pass gives every step.
        Bidirectional, ``output[:, t - 1]`` holds the backward direction after it has read steps
        t..end, which is no answer after t steps (the classifier never saw such a vector): the
        network reads each prefix of the sequence anew.
        """
        steps, sequence = self.chart_steps(), self.as_sequence(images)
        if not self.rnn.bidirectional:
            output, _ = self.rnn(sequence)
            return steps, self.classifier(output)
        return steps, torch.stack([self.classify(sequence[:, :t]) for t in steps], dim=1)

    def answer_and_steps(self, images: torch.Tensor) -> tuple[torch.Tensor, list[int], torch.Tensor]:
        """``(logits [batch, classes], steps, logits after those steps [batch, len(steps), classes])``:
        the answer and how it forms, in one pass where the network reads one way."""
        steps, step_logits = self.answers_after_steps(images)
        return step_logits[:, -1], steps, step_logits


def layer_once_named_lstm(module, state_dict, prefix, *args) -> None:
    """Checkpoints written before the cell could be chosen name the layer ``lstm``: read as ``rnn``
    (PyTorch's public pre-hook of ``load_state_dict``, so plain PyTorch loads them too)."""
    for key in [k for k in state_dict if k.startswith(prefix + "lstm.")]:
        state_dict[prefix + "rnn." + key[len(prefix + "lstm.") :]] = state_dict.pop(key)
