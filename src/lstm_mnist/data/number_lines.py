"""Lines of MNIST digits, for a number reader: the digits of each split set side by side, so that
training, validation and test lines never share a writer's digit image.

Training lines come from the training split only and are composed afresh every batch
(line_batches.py); validation lines from the validation split and test lines from MNIST's 10k test
set, each composed once from a fixed seed, so that every run and every checkpoint is scored on the
same lines. The test set is 10,000 lines of 1 to 8 digits, every length as likely.
"""

import torch

from lstm_mnist.data.line_batches import FixedBatches, FixedLines, LineBatches
from lstm_mnist.data.line_composition import LineStyle
from lstm_mnist.data.mnist import MNISTDataModule
from lstm_mnist.data.picture_folders import PictureFolder
from lstm_mnist.data.picture_reading import read_line
from lstm_mnist.errors import UserInputError

TEST_LINES = 10_000  # the fixed test set: the figures of the README and BENCHMARKS.md are on these
TEST_LINES_SEED = 2006  # Graves et al.'s year: any fixed number, never changed, so figures stay comparable


class NumberLinesDataModule(MNISTDataModule):
    """MNIST's digits set in lines of 1 to 8 (``style``), with their numbers as labels; and for
    ``predict``, a user's pictures of numbers (``predict_path``, with ``labels.csv`` of numbers).

    Every setting of ``MNISTDataModule`` applies to the digits the lines are made of: the split,
    the extra ``sources`` and ``font_digits`` (training lines then mix them with MNIST's), and the
    ``augmentation``, which varies each digit before it is set in a line.

    Args:
        style: how lines are composed (data/line_composition.py: lengths, gaps, scale, jitter,
            margins) for training; validation and test lines use the default style always.
        lines_per_epoch: training lines in one epoch (composed afresh, never the same twice).
        val_lines: validation lines, from the validation split.
        batch_size: training lines in a batch.
        eval_batch_size: lines in a batch of validation, test and predict.
    """

    def __init__(
        self,
        style: LineStyle | None = None,
        lines_per_epoch: int = 20_000,
        val_lines: int = 2_000,
        batch_size: int = 32,
        eval_batch_size: int = 500,
        **settings,
    ) -> None:
        super().__init__(batch_size=batch_size, eval_batch_size=eval_batch_size, **settings)
        self.style = style or LineStyle()
        self.style.check()
        for name, value in (("lines_per_epoch", lines_per_epoch), ("val_lines", val_lines)):
            if value < 1:
                raise UserInputError(f"--data.{name} must be at least 1, got {value}")
        self.lines_per_epoch = lines_per_epoch
        self.val_lines = val_lines
        self.predict_labels: dict[int, str] = {}  # position in predict_names -> the number, where known
        self.lines: dict[str, FixedLines] = {}  # "val", "test": made once, composed as first read

    def setup(self, stage: str | None = None) -> None:
        if stage == "predict" and self.predict_path:
            if self._predict_pictures is None:
                self._predict_pictures = PictureFolder(
                    self.predict_path, self.eval_batch_size, self.labels, read=read_line, labels_are="numbers"
                )
                self.predict_names = self._predict_pictures.names
                self.predict_labels = self._predict_pictures.labels
                self.predict_has_labels = self._predict_pictures.has_labels
            return
        super().setup("test" if stage == "predict" else stage)
        if "val" in self.splits and "val" not in self.lines:
            self.lines["val"] = FixedLines(*self.splits["val"], self.val_lines, self.split_seed, self.eval_batch_size)
        if "test" in self.splits and "test" not in self.lines:
            self.lines["test"] = FixedLines(*self.splits["test"], TEST_LINES, TEST_LINES_SEED, self.eval_batch_size)
        if stage == "predict":
            self.predict_names = [f"MNIST test line {index}" for index in range(TEST_LINES)]
            self.predict_labels = {}
            position = 0
            for _, _, digits, lengths in self.lines["test"]:
                for spelled, length in zip(digits.tolist(), lengths.tolist()):
                    self.predict_labels[position] = "".join(map(str, spelled[:length]))
                    position += 1
            self.predict_has_labels = True

    def train_dataloader(self):
        images, labels = self.splits["train"]
        rank, world_size = (self.trainer.global_rank, self.trainer.world_size) if self.trainer else (0, 1)
        vary = self.augmentation
        self._train_batches = LineBatches(
            images, labels, self.lines_per_epoch, self.batch_size, self.style, self.shuffle_seed, vary, rank, world_size
        )
        if self._train_batches_state is not None:
            self._train_batches.load_state_dict(self._train_batches_state)
            self._train_batches_state = None
        return self._train_batches

    def on_after_batch_transfer(self, batch, dataloader_idx: int):
        """The augmentation varies digits before they are set in lines (line_batches.py), not here."""
        return batch

    def val_dataloader(self):
        return self.lines["val"]

    def test_dataloader(self):
        return self.lines["test"]

    def predict_dataloader(self):
        """``(lines, widths, positions in predict_names)`` batches; the numbers, where known, are
        ``predict_labels``."""
        if self._predict_pictures is not None:
            return self._predict_pictures
        batches, position = [], 0
        for lines, widths, _, _ in self.lines["test"]:
            batches.append((lines, widths, torch.arange(position, position + len(lines))))
            position += len(lines)
        return FixedBatches(batches)
