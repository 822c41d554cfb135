"""``predict`` output: ``predictions.csv`` in the run's folder, a table on the console, and, where the
pictures' digits are known, how many it read right.

Rows are written a batch at a time into a file that appears whole or not at all
(storage/atomic.py): memory stays flat at any number of pictures, and an interrupted run leaves no
half ``predictions.csv``. Where labels are known (the MNIST test set, or a user's ``labels.csv``),
the console and the file say which were read right, the console adds the accuracy of every digit
and the most frequent confusions, and TensorBoard gets the confusion matrix. A tracker that keeps
files (MLflow, W&B) gets predictions.csv, one that keeps images the confusion matrix.

A number reader's rows hold the number (a string: leading zeros kept) and its probability, and
against numbers the console reports whole numbers read right, the character error rate and the
digits most often misread (number_scores.py).
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
from lstm_mnist.training.number_scores import NumberTally
from lstm_mnist.training.trackers import send_file

TABLE_ROWS = 20  # printed rows; the file holds all of them
CONFUSIONS_SHOWN = 5  # the most frequent confusions printed
COLUMNS = ["path", "prediction", "probability", "second", "second_probability", "third", "third_probability"]
LABEL_COLUMNS = ["label", "correct"]  # where the digits are known (empty for a picture without a label)
NUMBER_COLUMNS = ["path", "number", "probability"]  # a number reader's
NUMBER_LABEL_COLUMNS = ["label", "correct", "character_errors"]


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
        self._numbers: NumberTally | None = None  # a number reader's tally, from its first batch
        self._shown: list[list] = []
        self._rows = 0
        if trainer.is_global_zero:
            self._file = AtomicFile(f"{self._log_dir}/predictions.csv")

    def _write_header(self, numbers: bool) -> None:
        columns, label_columns = (NUMBER_COLUMNS, NUMBER_LABEL_COLUMNS) if numbers else (COLUMNS, LABEL_COLUMNS)
        self._write_rows([columns + (label_columns if self._labelled else [])])

    def write_on_batch_end(self, trainer, pl_module, prediction, batch_indices, batch, batch_idx, dataloader_idx=0):
        if self._file is None:
            return
        if "numbers" in prediction:
            return self._write_numbers(trainer.datamodule, prediction, batch)
        names, labels, positions = self._described(trainer.datamodule, batch, len(prediction["prediction"]))
        if self._rows == 0:
            if self._labelled is None:
                self._labelled = labels is not None
            self._write_header(numbers=False)
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

    def _write_numbers(self, datamodule, prediction: dict, batch) -> None:
        """A number reader's rows: ``(lines, widths, positions)`` batches, the numbers where known in
        the DataModule's ``predict_labels``."""
        if self._rows == 0:
            self._labelled = bool(getattr(datamodule, "predict_has_labels", False))
            self._numbers = NumberTally()
            self._write_header(numbers=True)
        names = getattr(datamodule, "predict_names", None)
        known = getattr(datamodule, "predict_labels", {})
        positions = batch[2].tolist() if len(batch) > 2 else range(self._rows, self._rows + len(prediction["numbers"]))
        rows = []
        for position, number, probability in zip(positions, prediction["numbers"], prediction["number_probability"]):
            row = [names[position] if names else f"line {position}", number, f"{float(probability):.4f}"]
            if self._labelled:
                truth = known.get(position)
                row += (
                    ["", "", ""] if truth is None else [truth, int(truth == number), self._numbers.add(truth, number)]
                )
            rows.append(row)
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
        if self._numbers is not None:
            print_number_table(self._shown, self._rows)
            if self._numbers.lines:
                print("\n".join(number_report(self._numbers)))
        else:
            print_table(self._shown, self._rows)
        if self._confusion.sum():
            print("\n".join(report(self._confusion)))
            send_figure(figure_loggers(trainer), "predict/confusion_matrix", confusion_figure(self._confusion), 0)
            for logger in trainer.loggers:
                logger.save()
        send_file(trainer.loggers, Path(self._log_dir) / "predictions.csv")
        what = "lines" if self._numbers is not None else "images"
        print(f"predictions of {self._rows:,} {what} written to {self._log_dir}/predictions.csv")

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


def print_number_table(rows: list[list], total: int) -> None:
    width = min(60, max([len(str(row[0])) for row in rows] + [5]))
    print(f"\n{'image':<{width}}  {'number':>12}  probability" + ("  label" if rows and len(rows[0]) > 3 else ""))
    for row in rows:
        label = f"  {row[3]}" if len(row) > 3 else ""
        print(f"{str(row[0])[-width:]:<{width}}  {row[1] or '(none)':>12}  {row[2]:>11}{label}")
    if total > len(rows):
        print(f"... {total - len(rows):,} more rows in the file")


def number_report(tally: NumberTally) -> list[str]:
    """Numbers read against their labels: whole numbers right, the character error rate, and the
    digits most often misread."""
    misread = [
        f"{true} read as {read} ({times})" for (true, read), times in tally.misread.most_common(CONFUSIONS_SHOWN)
    ]
    return [
        f"whole numbers read right: {tally.accuracy:.4f} ({tally.right:,} of {tally.lines:,})",
        f"character error rate:     {tally.character_error_rate:.4f} "
        f"({tally.errors:,} edit{'' if tally.errors == 1 else 's'} in {tally.digits:,} digits)",
        "most misread: " + (", ".join(misread) if misread else "none"),
    ]


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
