"""The network itself: an LSTM that reads an MNIST image one row at a time.

Plain PyTorch (no Lightning) so that it can be studied, tested and reused on its own.
"""

import torch
from torch import nn


class LSTMClassifier(nn.Module):
    """Reads a 28x28 image as 28 time steps of 28 pixels and classifies the final hidden state.

    The classifier sees the last layer's final hidden state: ``h_n[-1]`` for a one-directional
    LSTM (the same vector as ``output[:, -1]``), and the forward and backward final states of
    the last layer side by side for a bidirectional one (there ``output[:, -1]`` would hold the
    backward direction after reading a single row, which is why ``h_n`` is used).

    ``forget_bias`` replaces the initial input-side bias (``bias_ih``) of the forget gates; 0 keeps
    PyTorch's initialisation.
    """

    def __init__(
        self,
        hidden_size: int = 64,
        num_layers: int = 1,
        dropout: float = 0.0,
        bidirectional: bool = False,
        forget_bias: float = 0.0,
        input_size: int = 28,
        num_classes: int = 10,
    ) -> None:
        super().__init__()
        self.lstm = nn.LSTM(
            input_size=input_size,
            hidden_size=hidden_size,
            num_layers=num_layers,
            batch_first=True,
            dropout=dropout,
            bidirectional=bidirectional,
        )
        if forget_bias:
            # Start with the forget gate open so early gradients reach the first rows
            # (Jozefowicz et al., 2015). PyTorch orders each bias as input, forget, cell, output gates.
            with torch.no_grad():
                for name, bias in self.lstm.named_parameters():
                    if name.startswith("bias_ih"):
                        bias[hidden_size : 2 * hidden_size] = forget_bias
        directions = 2 if bidirectional else 1
        self.classifier = nn.Linear(directions * hidden_size, num_classes)

    @staticmethod
    def as_rows(images: torch.Tensor) -> torch.Tensor:
        """Accept ``[batch, 28, 28]`` or ``[batch, 1, 28, 28]`` and return ``[batch, rows, columns]``."""
        if images.dim() == 4 and images.shape[1] == 1:
            images = images.squeeze(1)
        if images.dim() != 3:
            raise ValueError(f"expected images of shape [batch, 28, 28] or [batch, 1, 28, 28], got {list(images.shape)}")
        return images

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Class scores (logits) of shape ``[batch, num_classes]``."""
        _, (h_n, _) = self.lstm(self.as_rows(images))
        if self.lstm.bidirectional:
            # h_n is [num_layers * 2, batch, hidden]; the last layer's two directions are the last two rows.
            final = torch.cat([h_n[-2], h_n[-1]], dim=1)
        else:
            final = h_n[-1]
        return self.classifier(final)

    def logits_after_each_row(self, images: torch.Tensor) -> torch.Tensor:
        """The classifier applied to ``output[:, t]`` for every row t: ``[batch, rows, num_classes]``.

        Shows how the answer forms as the LSTM reads further down the image. For a
        one-directional LSTM the last row's scores equal ``forward``'s.
        """
        output, _ = self.lstm(self.as_rows(images))
        return self.classifier(output)
