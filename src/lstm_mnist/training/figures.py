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
