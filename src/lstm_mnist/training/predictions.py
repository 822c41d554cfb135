"""``predict`` output: ``predictions.csv`` in the run's folder, a table on the console, and, where the
pictures' digits are known, how many it read right.

Rows are written a batch at a time into a file that appears whole or not at all
(storage/atomic.py): memory stays flat at any number of pictures, and an interrupted run leaves no
half ``predictions.csv``. Where labels are known (the MNIST test set, or a user's ``labels.csv``),
the console and the file say which were read right, the console adds the accuracy of every digit
and the most frequent confusions, and TensorBoard gets the confusion matrix. A tracker that keeps
files (MLflow, W&B) gets predictions.csv, one that keeps images the confusion matrix.
"""

import csv
import io
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import BasePredictionWriter

from lstm_mnist.data.mnist_format import MNIST
from lstm_mnist.storage.atomic import AtomicFile
from lstm_mnist.training.confusions import confusion_matrix, most_confused
from lstm_mnist.training.figure_loggers import figure_loggers, send_figure
from lstm_mnist.training.figures import confusion_figure
from lstm_mnist.training.trackers import send_file

TABLE_ROWS = 20  # printed rows; the file holds all of them
CONFUSIONS_SHOWN = 5  # the most frequent confusions printed
COLUMNS = ["path", "prediction", "probability", "second", "second_probability", "third", "third_probability"]
LABEL_COLUMNS = ["label", "correct"]  # where the digits are known (empty for a picture without a label)


class PredictionWriter(BasePredictionWriter):
    """Writes one row per image: its name, the predicted digit and probability, the next two, and
    where known its label and whether it was read right."""

    def __init__(self) -> None:
        super().__init__(write_interval="batch")
        self._file: AtomicFile | None = None

    def on_predict_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._log_dir = trainer.log_dir  # every rank must ask: Lightning broadcasts it
        # Known before the first batch for the project's data; for a DataModule of a user's own,
        # told by its first batch (images alone, or images and labels).
        self._labelled = getattr(trainer.datamodule, "predict_has_labels", None)
        self._confusion = torch.zeros(MNIST.classes, MNIST.classes, dtype=torch.long)
        self._shown: list[list] = []
        self._rows = 0
        if trainer.is_global_zero:
            self._file = AtomicFile(f"{self._log_dir}/predictions.csv")
            if self._labelled is not None:
                self._write_header()

    def _write_header(self) -> None:
        self._write_rows([COLUMNS + (LABEL_COLUMNS if self._labelled else [])])

    def write_on_batch_end(self, trainer, pl_module, prediction, batch_indices, batch, batch_idx, dataloader_idx=0):
        if self._file is None:
            return
        names, labels, positions = self._described(trainer.datamodule, batch, len(prediction["prediction"]))
        if self._labelled is None:
            self._labelled = labels is not None
            self._write_header()
        top_probability, top_digit = prediction["probabilities"].float().cpu().topk(3, dim=1)
        rows = []
        for index in range(len(positions)):
            row = [names[int(positions[index])] if names is not None else f"image {int(positions[index])}"]
            for rank in range(3):
                row += [int(top_digit[index, rank]), f"{float(top_probability[index, rank]):.4f}"]
            if self._labelled:
                label = int(labels[index])
                row += [label, int(label == row[1])] if label >= 0 else ["", ""]
            rows.append(row)
        if labels is not None:
            known = labels >= 0
            self._confusion += confusion_matrix(labels[known], top_digit[known, 0])
        self._shown += rows[: TABLE_ROWS - len(self._shown)]
        self._rows += len(rows)
        self._write_rows(rows)

    def _described(self, datamodule, batch, size: int):
        """``(names or None, labels or None, positions)`` of a batch: the project's data gives
        ``(images, labels, positions in predict_names)`` (a label of -1 unknown); a user's own may
        give images alone or ``(images, labels)``, and its pictures are numbered as they come."""
        names = getattr(datamodule, "predict_names", None)
        parts = list(batch) if isinstance(batch, (tuple, list)) else [batch]
        labels = parts[1].cpu() if len(parts) > 1 else None
        positions = parts[2].cpu() if len(parts) > 2 else torch.arange(self._rows, self._rows + size)
        return (names if len(parts) > 2 else None), labels, positions

    def _write_rows(self, rows: list[list]) -> None:
        text = io.StringIO(newline="")
        csv.writer(text).writerows(rows)
        self._file.write(text.getvalue().encode())

    def on_predict_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._file is None:
            return
        self._file.commit()
        self._file = None
        print_table(self._shown, self._rows)
        if self._confusion.sum():
            print("\n".join(report(self._confusion)))
            send_figure(figure_loggers(trainer), "predict/confusion_matrix", confusion_figure(self._confusion), 0)
            for logger in trainer.loggers:
                logger.save()
        send_file(trainer.loggers, Path(self._log_dir) / "predictions.csv")
        print(f"predictions of {self._rows:,} images written to {self._log_dir}/predictions.csv")

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        if self._file is not None:  # nothing half-written: no predictions.csv at all
            self._file.abort()
            self._file = None


def print_table(rows: list[list], total: int) -> None:
    width = min(60, max(len(str(row[0])) for row in rows))
    print(f"\n{'image':<{width}}  digit  probability  then")
    for row in rows:
        print(f"{str(row[0])[-width:]:<{width}}  {row[1]:>5}  {row[2]:>11}  {row[3]} ({row[4]}), {row[5]} ({row[6]})")
    if total > len(rows):
        print(f"... {total - len(rows):,} more rows in the file")


def report(confusion: torch.Tensor) -> list[str]:
    """What a user wants to know about their labelled digits: how many were read right, of each digit,
    and which mistakes were the most frequent (rows of ``confusion``: the true digit)."""
    labelled, right = int(confusion.sum()), int(confusion.trace())
    lines = [f"accuracy against the labels: {right / labelled:.4f} ({right:,} of {labelled:,})"]
    per_digit = [
        f"{digit}: {int(confusion[digit, digit]) / int(confusion[digit].sum()):.2f}"
        for digit in range(MNIST.classes)
        if confusion[digit].sum()
    ]
    lines.append("per digit:   " + "  ".join(per_digit))
    confusions = [
        f"{true} read as {read} ({times})" for true, read, times in most_confused(confusion, CONFUSIONS_SHOWN)
    ]
    lines.append("most confused: " + (", ".join(confusions) if confusions else "none"))
    return lines
