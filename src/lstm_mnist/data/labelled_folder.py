"""A folder of a user's own pictures of digits, with their labels, as extra training images: the
pictures a model reads badly, taught to it.

The pictures are read as ``predict`` reads them (picture_reading.py), and the labels checked as
``predict``'s are (``file,label`` in the folder's ``labels.csv`` or another file): the same folder
can be predicted first, to see what the model gets wrong, then trained on.
"""

from pathlib import Path

import torch
from torch import Tensor

from lstm_mnist.data.digit_source import DigitSource
from lstm_mnist.data.picture_folders import LABELS_FILE, NO_LABEL, PictureFolder
from lstm_mnist.errors import UserInputError


class LabelledFolder(DigitSource):
    """Every picture in a folder, each with its digit from a labels file, added to the training
    images ``copies`` times.

    Args:
        path: the folder of pictures (PNG, JPEG and the other formats Pillow reads).
        labels: a CSV file ``file,label`` naming every picture's digit; unset, the folder's
            ``labels.csv``.
        copies: times each picture is added: a few hundred pictures beside MNIST's 55,000 weigh
            little otherwise (the augmentation varies each copy).
    """

    def __init__(self, path: str, labels: str | None = None, copies: int = 1) -> None:
        self.path, self.labels, self.copies = path, labels, copies

    def check(self) -> None:
        folder = Path(self.path)
        if not folder.is_dir():
            raise UserInputError(f"LabelledFolder: path {folder} is not a folder: give a folder of pictures")
        labels = Path(self.labels) if self.labels else folder / LABELS_FILE
        if not labels.is_file():
            raise UserInputError(
                f"LabelledFolder: {labels} does not exist: training needs each picture's digit (a CSV file,label)"
            )
        if self.copies < 1:
            raise UserInputError(f"LabelledFolder: copies must be at least 1, got {self.copies}")

    def images(self) -> tuple[Tensor, Tensor]:
        self.check()
        pictures = PictureFolder(self.path, batch_size=1_000, labels=self.labels)
        batches = list(pictures)
        images, labels = torch.cat([b[0] for b in batches]), torch.cat([b[1] for b in batches])
        unlabelled = [pictures.names[int(p)] for b in batches for p, label in zip(b[2], b[1]) if label == NO_LABEL]
        if unlabelled:
            raise UserInputError(
                f"LabelledFolder: {len(unlabelled)} pictures in {self.path} have no label (first: {unlabelled[0]}): "
                "training needs every picture's digit"
            )
        return images.repeat(self.copies, 1, 1), labels.repeat(self.copies)

    def description(self) -> str:
        copies = f", {self.copies}x" if self.copies > 1 else ""
        return f"the labelled pictures of {self.path}{copies}"
