"""The pictures a user asks ``predict`` about: a file or a folder of them, with their labels when the
user has them, read a batch at a time.

Reading is part of predicting: a batch of ``batch_size`` files is read (picture_reading.py), predicted
and written before the next is read, so memory stays the same for ten pictures or a million, and
Lightning's progress bar shows the reading. A file that is not a picture is named on stderr and
skipped; a folder with none is an error once it has been read through.

Labels come from ``labels.csv`` in the folder, or from ``--data.labels FILE``: a header
``file,label``, then a row a picture, ``file`` as the name in the folder (or its path from the
folder), ``label`` a digit 0-9 (or, for a number reader, a number: a string of digits, leading
zeros kept). Pictures without a row are predicted all the same.
"""

import csv
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import Tensor

from lstm_mnist.data.line_composition import pad_lines
from lstm_mnist.data.mnist_format import MNIST
from lstm_mnist.data.picture_reading import read_picture
from lstm_mnist.errors import UserInputError

LABELS_FILE = "labels.csv"  # found in the folder without --data.labels
NO_LABEL = -1  # the label tensor's value for a picture the labels do not name


class PictureFolder:
    """The files at ``path`` in name order, with the labels of ``labels`` (or the folder's
    ``labels.csv``); iterating yields ``(images [n, 28, 28], labels [n], positions [n])`` batches,
    ``positions`` indexing ``names``.

    For a number reader (``labels_are="numbers"``, ``read`` giving lines ``[28, width]``) a batch is
    ``(lines [n, 28, widest], widths [n], positions [n])`` and the numbers are ``labels``, a string
    for each position a row names.
    """

    def __init__(
        self,
        path: str | Path,
        batch_size: int,
        labels: str | Path | None = None,
        read=read_picture,
        labels_are: str = "digits",
    ) -> None:
        self.path = Path(path)
        self.batch_size = batch_size
        self.read_one, self.labels_are = read, labels_are
        if self.path.is_dir():
            self.files = sorted(
                file for file in self.path.iterdir() if file.is_file() and not file.name.startswith(".")
            )
            labels = labels or (self.path / LABELS_FILE if (self.path / LABELS_FILE).is_file() else None)
            self.files = [file for file in self.files if labels is None or file.resolve() != Path(labels).resolve()]
        elif self.path.is_file():
            self.files = [self.path]
            try:  # one picture: refused before anything runs, as a bad --ckpt_path is
                read(self.path)
            except ValueError as error:
                raise UserInputError(f"{self.path}: {error}") from error
        else:
            raise UserInputError(
                f"--data.predict_path {self.path} does not exist: give an image file or a folder of them"
            )
        self.names = [str(file) for file in self.files]
        self.labels = read_labels(Path(labels), self.files, self.path, labels_are) if labels else {}
        self.read = 0  # pictures read so far in this pass

    @property
    def has_labels(self) -> bool:
        return bool(self.labels)

    def __len__(self) -> int:
        return -(-len(self.files) // self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor, Tensor]]:
        self.read = 0
        for start in range(0, len(self.files), self.batch_size):
            images, labels, positions = [], [], []
            for position in range(start, min(start + self.batch_size, len(self.files))):
                file = self.files[position]
                try:
                    images.append(self.read_one(file))
                except ValueError as error:  # UnreadablePicture, or Pillow failing on an odd file
                    if not self.path.is_dir():
                        raise UserInputError(f"{file}: {error}") from error
                    print(f"skipped {file}: {error}", file=sys.stderr)
                    continue
                labels.append(self.labels.get(position, NO_LABEL) if self.labels_are == "digits" else 0)
                positions.append(position)
            self.read += len(images)
            if images and self.labels_are == "numbers":
                yield *pad_lines(images), torch.tensor(positions)
            elif images:
                yield torch.stack(images), torch.tensor(labels), torch.tensor(positions)
        if self.read == 0:
            raise UserInputError(f"no readable digit images in {self.path} (PNG, JPEG and the other formats PIL reads)")


def read_labels(labels_file: Path, files: list[Path], folder: Path, labels_are: str = "digits") -> dict:
    """``position in files -> label`` from ``labels_file`` (a digit, or for ``labels_are="numbers"``
    the number as a string); every mistake in it is one line naming it."""
    if not labels_file.is_file():
        raise UserInputError(f"--data.labels {labels_file} does not exist: give a CSV file with the columns file,label")
    where = {}
    for position, file in enumerate(files):
        where[file.name] = position
        if folder.is_dir():
            where[str(file.relative_to(folder))] = position
        where[str(file)] = position
    try:
        with labels_file.open(newline="") as table:
            rows = list(csv.DictReader(table))
            columns = set(rows[0]) if rows else set()
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise UserInputError(f"{labels_file} cannot be read as CSV ({error})") from error
    if not {"file", "label"} <= columns:
        raise UserInputError(
            f"{labels_file} needs the columns file,label (a header line, then one row a picture), got "
            f"{', '.join(sorted(columns)) or 'no rows'}"
        )
    labels = {}
    for line, row in enumerate(rows, start=2):
        name, label = (row["file"] or "").strip(), (row["label"] or "").strip()
        if name not in where:
            raise UserInputError(f"{labels_file}, line {line}: {name or '(empty)'} is not a picture in {folder}")
        if labels_are == "numbers":
            if not re.fullmatch("[0-9]+", label):
                raise UserInputError(
                    f"{labels_file}, line {line}: the label of {name} must be a number (the digits 0-9 only), "
                    f"got {label!r}"
                )
            labels[where[name]] = label
            continue
        if not (label.isdigit() and int(label) < MNIST.classes):
            raise UserInputError(f"{labels_file}, line {line}: the label of {name} must be a digit 0-9, got {label!r}")
        labels[where[name]] = int(label)
    return labels


def load_user_images(path: str | Path) -> tuple[list[str], Tensor]:
    """Every readable picture at ``path`` (a file, or a folder's files in name order) in MNIST's form,
    at once: ``(names, images [n, 28, 28])``. Unreadable files in a folder are named and skipped."""
    pictures = PictureFolder(path, batch_size=1_000)
    names, images = [], []
    for batch, _, positions in pictures:
        images.append(batch)
        names += [pictures.names[int(position)] for position in positions]
    return names, torch.cat(images)
