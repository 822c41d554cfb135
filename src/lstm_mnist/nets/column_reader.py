"""A network that reads a line of digits column by column and scores every step: the recurrent
layer's ``output`` (the hidden state after each column) rather than its ``h_n`` (after the last).

Connectionist temporal classification (Graves et al., 2006) trains these scores to spell the
line's digits in order, with no cut between them: at every step the network says which digit it
sees, or the blank (none, or the same one still). Imports torch only, like every network here.
"""

from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstm_mnist.data.mnist_format import MNIST
from lstm_mnist.errors import UserInputError
from lstm_mnist.nets.ctc_decoding import BLANK
from lstm_mnist.nets.network import Network
from lstm_mnist.nets.recurrent import LSTM_FORGET_BIAS

# Columns right of a line's end that the front's last step sees (two 3x3 convolutions, each halving
# the width: step t reads columns 4t-3 to 4t+6, and the last step of a line W wide ends by W+2).
REACH = 8


class ColumnReader(Network):
    """Reads ``[batch, 28, width]`` lines and gives scores ``[batch, steps, 11]`` (digits 0-9, then
    the blank) for every step, a step being ``column_stride`` columns.

    ``front: conv`` puts two 3x3 convolutions, each followed by halving the height and the width,
    before the LSTM: a step then reads 4 columns as 64 features of 7 rows, strokes already found.
    ``front: none`` reads the raw columns (28 pixels a step), as the digit classifier's
    ``order: columns`` does.

    Args:
        hidden_size: features in each direction's hidden state.
        num_layers: recurrent layers stacked on each other.
        bidirectional: also read the line right to left, so each step's score knows what follows.
        dropout: dropout between stacked layers and before the scores.
        front: ``conv`` (two convolutions) or ``none`` (columns as they are).
        channels: the two convolutions' output channels (``front: conv``).
    """

    def __init__(
        self,
        hidden_size: int = 128,
        num_layers: int = 2,
        bidirectional: bool = True,
        dropout: float = 0.1,
        front: str = "conv",
        channels: tuple[int, int] = (32, 64),
    ) -> None:
        super().__init__()
        if front not in ("conv", "none"):
            raise UserInputError(f"front must be conv or none, got {front!r}")
        self.front_kind = front
        if front == "conv":
            first, second = channels
            self.front = nn.Sequential(
                nn.Conv2d(1, first, 3, padding=1),
                nn.BatchNorm2d(first),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(first, second, 3, padding=1),
                nn.BatchNorm2d(second),
                nn.ReLU(),
                nn.MaxPool2d(2),
            )
            self.column_stride = 4
            features = second * (MNIST.side // 4)
        else:
            self.front = None
            self.column_stride = 1
            features = MNIST.side
        self.rnn = nn.LSTM(
            features,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
            bidirectional=bidirectional,
        )
        with torch.no_grad():  # forget gates open at the start, as the classifier's
            for name, bias in self.rnn.named_parameters():
                if name.startswith("bias_ih"):
                    bias[hidden_size : 2 * hidden_size] = LSTM_FORGET_BIAS
        self.dropout = nn.Dropout(dropout)
        self.scores = nn.Linear(hidden_size * (2 if bidirectional else 1), BLANK + 1)

    @classmethod
    def architecture(cls, settings: dict[str, Any]) -> dict[str, Any]:
        return {name: value for name, value in settings.items() if name != "dropout"}

    @property
    def description(self) -> str:
        layers = f"{self.rnn.num_layers}-layer " if self.rnn.num_layers > 1 else ""
        both_ways = "bidirectional " if self.rnn.bidirectional else ""
        front = "convolutions, then a " if self.front is not None else ""
        return f"{front}{layers}{both_ways}LSTM of {self.rnn.hidden_size} units reading a line's columns"

    def steps(self, widths: Tensor) -> Tensor:
        """How many scored steps a line of each width gives (the CTC input lengths)."""
        return torch.div(widths, self.column_stride, rounding_mode="floor").clamp(min=1)

    def forward(self, lines: Tensor, widths: Tensor | None = None) -> Tensor:
        """Scores (logits) ``[batch, steps, 11]`` for standardised ``[batch, 28, width]`` lines. With
        ``widths`` (each line's own, the rest padding) the recurrent layer reads each line to its
        end and no further, so a line's scores do not depend on what it was batched with."""
        if self.front is not None:
            # The line's last column (its background margin) is repeated past its end, so that its
            # last steps see the same whether the line is read alone (the ONNX file, `read`) or
            # padded with background in a batch: a line's number never depends on its batch.
            padded = F.pad(lines, (0, REACH), mode="replicate").unsqueeze(1)
            features = self.front(padded)[..., : lines.shape[-1] // self.column_stride]  # [batch, channels, 7, steps]
            sequence = features.flatten(1, 2).transpose(1, 2)  # [batch, steps, channels * 7]
        else:
            sequence = lines.transpose(1, 2)  # [batch, width, 28]
        if widths is None:
            output, _ = self.rnn(sequence)
        else:
            lengths = self.steps(widths).clamp(max=sequence.shape[1]).cpu()
            packed = pack_padded_sequence(sequence, lengths, batch_first=True, enforce_sorted=False)
            output, _ = pad_packed_sequence(self.rnn(packed)[0], batch_first=True, total_length=sequence.shape[1])
        return self.scores(self.dropout(output))
