"""A number reader's pictures (drawn by the ``Pictures`` callback, on its schedule): the lines it
misread, and how the number forms along a line: the probability of each digit and of the blank at
every step, which shows where the reader places each digit and how sure it is."""

import torch
from torch import Tensor

from lstm_mnist.training.figure_loggers import Send, send_figure
from lstm_mnist.training.figures import misread_lines_figure, number_forms_figure
from lstm_mnist.training.number_reader import best_paths, read_right, spelled

CHARTED_LINES = 4  # lines "how the number forms" shows: the first of the validation (or test) set


class LinePictureSet:
    """What one validation's (or the test's) pictures need, collected batch by batch."""

    def __init__(self, max_misread: int) -> None:
        self.max_misread = max_misread
        self.misread: list[tuple[Tensor, str, str]] = []
        self.charted: list[tuple[Tensor, Tensor, int, str, str]] = []

    def collect(self, pl_module, batch) -> None:
        lines, widths, digits, lengths = batch
        with torch.inference_mode():
            logits = pl_module(lines, widths)
        steps = pl_module.steps(widths).clamp(max=logits.shape[1])
        symbols, counts = best_paths(logits, steps)
        reads, truths = spelled(symbols, counts), spelled(digits, lengths)
        wrong = (~read_right(symbols, counts, digits, lengths)).nonzero().flatten().tolist()
        for index in wrong[: max(0, self.max_misread - len(self.misread))]:
            self.misread.append((lines[index, :, : widths[index]].cpu(), truths[index], reads[index]))
        probabilities = logits.float().softmax(dim=-1).cpu()
        stride = getattr(pl_module.net, "column_stride", 1)  # columns a step reads
        for index in range(min(len(lines), CHARTED_LINES - len(self.charted))):
            line = lines[index, :, : widths[index]].cpu()
            self.charted.append((line, probabilities[index, : steps[index]], stride, truths[index], reads[index]))

    def draw(self, sends: list[Send], prefix: str, step: int) -> None:
        if self.charted:
            send_figure(sends, f"{prefix}/number_forms", number_forms_figure(self.charted), step)
        if self.misread:
            send_figure(sends, f"{prefix}/misread", misread_lines_figure(*zip(*self.misread)), step)
