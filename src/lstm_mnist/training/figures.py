"""The pictures of a run, drawn with matplotlib: which digits the model confuses, the digits it
gets wrong, and how its answer forms as it reads."""

import torch
from torch import Tensor

from lstm_mnist.data.mnist_format import MNIST


def new_figure(figsize: tuple[float, float], margins: tuple[float, float, float, float]):
    """A matplotlib figure of its own, outside pyplot (no display backend is touched), with one
    axes placed by fixed ``margins`` (left, bottom, right, top, in inches): ``tight_layout``
    would render every text once more to measure it (a set of three pictures: 264 ms with it,
    226 ms without, ``benchmarks/overheads.py``)."""
    from matplotlib.figure import Figure

    width, height = figsize
    left, bottom, right, top = margins
    figure = Figure(figsize=figsize)
    axes = figure.add_axes((left / width, bottom / height, 1 - (left + right) / width, 1 - (bottom + top) / height))
    return figure, axes


def confusion_figure(confusion: Tensor):
    """A 10x10 confusion matrix with the count in every cell (rows: true digit, columns: predicted)."""
    figure, axes = new_figure((5, 5), margins=(0.55, 0.5, 0.1, 0.1))
    shade = confusion.log1p()  # so that a handful of errors still shows beside a thousand hits
    axes.imshow(shade.numpy(), cmap="Blues")
    for true in range(MNIST.classes):
        for predicted in range(MNIST.classes):
            count = int(confusion[true, predicted])
            if count:
                colour = "white" if shade[true, predicted] > shade.max() / 2 else "black"
                axes.text(predicted, true, str(count), ha="center", va="center", fontsize=7, color=colour)
    axes.set(xlabel="predicted", ylabel="true", xticks=range(MNIST.classes), yticks=range(MNIST.classes))
    return figure


def misclassified_figure(images: Tensor, labels: Tensor, predictions: Tensor, columns: int = 8):
    """A grid of wrongly classified digits, each captioned ``true -> predicted``.

    The digits are tiled into one picture and drawn with a single ``imshow``: a subplot per
    digit would take matplotlib about half a second.
    """
    rows = max(1, -(-len(images) // columns))
    cell, caption = MNIST.side + 2, 9  # pixels per digit with its margin, and room for its caption
    sheet = torch.ones(rows * (cell + caption), columns * cell)
    for index, image in enumerate(images):
        top, left = (index // columns) * (cell + caption) + caption, (index % columns) * cell
        # dark digit on white
        sheet[top + 1 : top + 1 + MNIST.side, left + 1 : left + 1 + MNIST.side] = 1.0 - image.float()
    figure, axes = new_figure((columns * 0.9, rows * 1.1), margins=(0.05, 0.05, 0.05, 0.05))
    axes.imshow(sheet.numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    for index in range(len(images)):
        top, left = (index // columns) * (cell + caption), (index % columns) * cell
        text = f"{int(labels[index])} -> {int(predictions[index])}"
        axes.text(left + cell / 2, top + caption - 1, text, ha="center", va="bottom", fontsize=7, color="red")
    axes.axis("off")
    return figure


def answer_forms_figure(true_class_probability: Tensor, steps: list[int], step_name: str = "rows"):
    """The answer's probability of the true digit had the network stopped reading after t steps, for
    each t of ``steps``, one line per digit (``[10, len(steps)]``); ``step_name`` says what a step is:
    rows, columns or pixels."""
    figure, axes = new_figure((6.5, 4.3), margins=(0.65, 0.5, 0.1, 0.4))
    for digit in range(MNIST.classes):
        axes.plot(steps, true_class_probability[digit].numpy(), label=str(digit))
    axes.set(xlabel=f"{step_name} read", ylabel="probability of the true digit", ylim=(0, 1.02), xlim=(1, steps[-1]))
    axes.set_title(f"the answer had it stopped after t {step_name}, mean per true digit", fontsize=9)
    axes.legend(title="digit", ncol=2, fontsize=7)
    axes.grid(alpha=0.3)
    return figure


def misread_lines_figure(lines: list[Tensor], truths: list[str], reads: list[str]):
    """Lines a number reader misread, one under the other, each captioned ``true -> read``."""
    from matplotlib.figure import Figure

    widest = max(line.shape[1] for line in lines)
    cell = MNIST.side + 14  # a line and its caption
    sheet = torch.ones(len(lines) * cell, widest + 4)
    for index, line in enumerate(lines):
        top = index * cell + 12
        sheet[top : top + MNIST.side, 2 : 2 + line.shape[1]] = 1.0 - line.float()
    figure = Figure(figsize=(max(3.0, (widest + 4) / 40), len(lines) * cell / 40))
    axes = figure.add_axes((0, 0, 1, 1))
    axes.imshow(sheet.numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest", aspect="auto")
    for index, (truth, read) in enumerate(zip(truths, reads)):
        axes.text(2, index * cell + 10, f"{truth} -> {read or '(none)'}", fontsize=7, color="red", va="bottom")
    axes.axis("off")
    return figure


def number_forms_figure(lines: list[tuple[Tensor, Tensor, int, str, str]]):
    """How a number forms as the reader reads a line: for each ``(line [28, width], probabilities
    [steps, 11], columns a step, truth, read)``, the line and under it the probability of every
    digit and of the blank at each step, where the step reads. A digit's probability rises to
    near 1 for a step or two where the digit is, and the blank holds the rest."""
    from matplotlib.figure import Figure

    widest = max(line.shape[1] for line, *_ in lines)
    figure = Figure(figsize=(max(6.0, widest / 28 * 1.1), 2.3 * len(lines)))
    colours = [f"C{digit}" for digit in range(MNIST.classes)]
    for index, (line, probabilities, stride, truth, read) in enumerate(lines):
        bottom = 1 - (index + 1) / len(lines)
        picture = figure.add_axes((0.1, bottom + 0.6 / len(lines), 0.76, 0.3 / len(lines)))
        picture.imshow(line.numpy(), cmap="gray", aspect="auto", extent=(0, widest, MNIST.side, 0))
        picture.set(xlim=(0, widest), xticks=[], yticks=[])
        picture.set_title(f"true {truth}, read {read or '(none)'}", fontsize=8)
        chart = figure.add_axes((0.1, bottom + 0.1 / len(lines), 0.76, 0.45 / len(lines)))
        columns = (torch.arange(len(probabilities)) + 0.5) * stride
        for digit in range(MNIST.classes):
            chart.plot(columns.numpy(), probabilities[:, digit].numpy(), color=colours[digit], label=str(digit))
        chart.plot(columns.numpy(), probabilities[:, -1].numpy(), color="0.6", linestyle="--", label="blank")
        chart.set(xlim=(0, widest), ylim=(-0.02, 1.02), ylabel="probability")
        chart.tick_params(labelsize=7)
        if index == 0:
            chart.legend(fontsize=6, ncol=1, loc="center left", bbox_to_anchor=(1.01, 0.5 + 0.3))
        if index == len(lines) - 1:
            chart.set_xlabel("column of the line", fontsize=8)
    return figure
