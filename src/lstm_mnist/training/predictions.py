"""``predict`` output: ``predictions.csv`` in the run's folder and a table on the console."""

import csv
import io
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import BasePredictionWriter

from lstm_mnist.storage.atomic import write_atomically

TABLE_ROWS = 20  # printed rows; the file holds all of them


class PredictionWriter(BasePredictionWriter):
    """Writes one row per image: its name, the predicted digit and probability, and the top 3.

    The file is written whole or not at all (storage/atomic.py), so an interrupted run never leaves half
    a ``predictions.csv``.
    """

    def __init__(self) -> None:
        super().__init__(write_interval="epoch")

    def write_on_epoch_end(self, trainer: L.Trainer, pl_module, predictions, batch_indices) -> None:
        log_dir = trainer.log_dir  # every rank must ask: Lightning broadcasts it
        if not trainer.is_global_zero or not predictions:
            return
        probabilities = torch.cat([batch["probabilities"] for batch in predictions]).float().cpu()
        data = trainer.datamodule
        names = data.predict_names
        labels = data.predict_labels
        top_probability, top_digit = probabilities.topk(3, dim=1)
        header = ["path", "prediction", "probability", "second", "second_probability", "third", "third_probability"]
        rows = []
        for index, name in enumerate(names):
            row = [name]
            for rank in range(3):
                row += [int(top_digit[index, rank]), f"{float(top_probability[index, rank]):.4f}"]
            rows.append(row + ([int(labels[index])] if labels is not None else []))
        if labels is not None:
            header.append("label")

        path = Path(log_dir) / "predictions.csv"
        table = io.StringIO(newline="")
        writer = csv.writer(table)
        writer.writerow(header)
        writer.writerows(rows)
        write_atomically(path, lambda file: file.write(table.getvalue().encode()))
        self._print_table(rows, labels, top_digit[:, 0], path)

    @staticmethod
    def _print_table(rows, labels, predicted, path: Path) -> None:
        width = min(60, max(len(str(row[0])) for row in rows))
        print(f"\n{'image':<{width}}  digit  probability  then")
        for row in rows[:TABLE_ROWS]:
            print(
                f"{str(row[0])[-width:]:<{width}}  {row[1]:>5}  {row[2]:>11}  {row[3]} ({row[4]}), {row[5]} ({row[6]})"
            )
        if len(rows) > TABLE_ROWS:
            print(f"... {len(rows) - TABLE_ROWS} more rows in the file")
        if labels is not None:
            accuracy = (predicted == labels.cpu()).float().mean().item()
            print(f"accuracy against the labels: {accuracy:.4f}")
        print(f"predictions of {len(rows)} images written to {path}")
