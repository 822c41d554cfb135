"""The training recipe around a network that reads a whole number: CTC's loss over the scores at
every step, whole-number accuracy and the character error rate, and the numbers as answers.

Where the digit classifier reads ``h_n`` (the state after the last step) and answers one of ten,
this task reads ``output`` (the state after every step): the network scores each step as one of
the ten digits or the blank, and ``nn.CTCLoss`` sums over every way those scores could spell the
number, so that no one says where a digit starts (Graves et al., 2006).
"""

from typing import Literal

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torchmetrics import MaxMetric, MeanMetric
from torchmetrics.text import CharErrorRate

from lstm_mnist.data.number_lines import NumberLinesDataModule
from lstm_mnist.nets.ctc_decoding import BLANK
from lstm_mnist.storage.bundled_model import NUMBER_READER, bundled_path
from lstm_mnist.training.metric_names import TEST_ACC, TEST_CER, TEST_LOSS, VAL_ACC, VAL_CER, VAL_LOSS
from lstm_mnist.training.trained_task import TrainedTask

Batch = tuple[Tensor, Tensor, Tensor, Tensor]  # lines, widths, digits, lengths (data/line_batches.py)


class NumberReader(TrainedTask):
    """Trains a network that scores every step of a line (``[batch, steps, 11]``: the digits 0-9
    and the blank, ``lstm_mnist.nets.column_reader.ColumnReader``) to spell the line's number.

    ``val/acc`` and ``test/acc`` are the share of whole numbers read exactly right (what the best
    checkpoint keeps), ``val/cer`` and ``test/cer`` the character error rate. Answers are CTC's
    best path (nets/ctc_decoding.py).

    Args:
        net: the network: maps standardised ``[batch, 28, width]`` lines (and their ``widths``) to
            scores ``[batch, steps, 11]``, and says how many steps a width gives (``steps``).
        normalize_input: standardise pixels with MNIST's mean and std before the network.
        lr: Adam's learning rate; the peak rate when ``schedule`` is ``one_cycle``.
        weight_decay: Adam's L2 penalty.
        beta2: Adam's decay rate for its running mean of squared gradients (the digit recipe's 0.95).
        schedule: ``constant`` keeps ``lr``; ``one_cycle`` warms up to it and anneals to ~0 over
            the whole run, stepped every batch.
        warmup_fraction: share of the run spent warming up (``one_cycle`` only).
    """

    data_class = NumberLinesDataModule  # the data it reads, where a checkpoint of it is used with another task's config
    bundled_file = NUMBER_READER  # what validate, test and predict use when given no checkpoint

    def __init__(
        self,
        net: nn.Module,
        normalize_input: bool = True,
        lr: float = 3e-3,
        weight_decay: float = 0.0,
        beta2: float = 0.95,
        schedule: Literal["constant", "one_cycle"] = "one_cycle",
        warmup_fraction: float = 0.15,
    ) -> None:
        super().__init__(net, beta2)
        self.save_hyperparameters(ignore=["net"])
        self.describe_network()
        self.ctc = nn.CTCLoss(blank=BLANK, zero_infinity=True)
        self.val_loss, self.test_loss = MeanMetric(), MeanMetric()
        self.val_acc, self.test_acc = MeanMetric(), MeanMetric()
        self.val_cer, self.test_cer = CharErrorRate(), CharErrorRate()
        self.val_acc_best = MaxMetric()
        self.val_acc_best.persistent(True)  # kept in checkpoints, so a resumed run remembers its best

    def forward(self, lines: Tensor, widths: Tensor | None = None) -> Tensor:
        """Scores (logits) ``[batch, steps, 11]`` for raw lines in [0, 1], ``[batch, 28, width]``."""
        return self.net(self.standardize(lines), widths)

    def steps(self, widths: Tensor) -> Tensor:
        """The scored steps of lines of these widths."""
        return self.net.steps(widths)

    def loss(self, logits: Tensor, widths: Tensor, digits: Tensor, lengths: Tensor) -> Tensor:
        """CTC's loss, the mean over the lines of each line's loss per digit (PyTorch's ``mean``)."""
        log_probabilities = logits.float().log_softmax(dim=-1).transpose(0, 1)  # [steps, batch, 11]
        steps = self.steps(widths).clamp(max=logits.shape[1])
        return self.ctc(log_probabilities, digits, steps, lengths)

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        lines, widths, digits, lengths = batch
        logits = self(lines, widths)
        loss = self.loss(logits, widths, digits, lengths)
        symbols, counts = best_paths(logits, self.steps(widths))
        self.log_training(loss, read_right(symbols, counts, digits, lengths).sum(), len(lines))
        return loss

    def _evaluate(self, batch: Batch, loss: MeanMetric, accuracy: MeanMetric, cer: CharErrorRate) -> None:
        lines, widths, digits, lengths = batch
        logits = self(lines, widths)
        loss.update(self.loss(logits, widths, digits, lengths), weight=len(lines))
        symbols, counts = best_paths(logits, self.steps(widths))
        accuracy.update(read_right(symbols, counts, digits, lengths).float())
        cer.update(spelled(symbols, counts), spelled(digits, lengths))

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        self._evaluate(batch, self.val_loss, self.val_acc, self.val_cer)

    def on_validation_epoch_end(self) -> None:
        metrics = {VAL_LOSS: self.val_loss.compute(), VAL_ACC: self.val_acc.compute(), VAL_CER: self.val_cer.compute()}
        for metric in (self.val_loss, self.val_acc, self.val_cer):
            metric.reset()
        self.log_validation(metrics)

    def test_step(self, batch: Batch, batch_idx: int) -> None:
        self._evaluate(batch, self.test_loss, self.test_acc, self.test_cer)

    def on_test_epoch_end(self) -> None:
        for name, metric in ((TEST_LOSS, self.test_loss), (TEST_ACC, self.test_acc), (TEST_CER, self.test_cer)):
            self.log(name, metric.compute(), sync_dist=True)
            metric.reset()

    def predict_step(self, batch, batch_idx: int) -> dict:
        """Each line's number (a string: leading zeros kept) and the probability of its best path."""
        lines, widths = batch[0], batch[1]
        logits = self(lines, widths)
        steps = self.steps(widths).clamp(max=logits.shape[1])
        symbols, counts = best_paths(logits, steps)
        chosen = logits.float().log_softmax(dim=-1).amax(dim=-1)  # [batch, steps]: each step's choice
        valid = torch.arange(logits.shape[1], device=logits.device) < steps.unsqueeze(1).to(logits.device)
        probability = (chosen * valid).sum(dim=1).exp()
        return {"numbers": spelled(symbols, counts), "number_probability": probability}


def best_paths(logits: Tensor, steps: Tensor) -> tuple[Tensor, Tensor]:
    """CTC's best path for a batch, on the device: ``(symbols [batch, steps] with each line's digits
    first and -1 after, counts [batch])``. The same rule as ``nets.ctc_decoding.collapse`` (most
    likely symbol a step, runs merged, blanks dropped), without leaving the device."""
    choice = logits.argmax(dim=-1)  # [batch, steps]
    previous = F.pad(choice, (1, 0), value=BLANK)[:, :-1]
    valid = torch.arange(choice.shape[1], device=choice.device) < steps.to(choice.device).unsqueeze(1)
    kept = (choice != previous) & (choice != BLANK) & valid
    counts = kept.sum(dim=1)
    place = torch.where(kept, kept.cumsum(dim=1) - 1, choice.shape[1])  # the dropped go past the end
    symbols = torch.full((len(choice), choice.shape[1] + 1), -1, dtype=choice.dtype, device=choice.device)
    symbols.scatter_(1, place, torch.where(kept, choice, -1))
    return symbols[:, :-1], counts


def read_right(symbols: Tensor, counts: Tensor, digits: Tensor, lengths: Tensor) -> Tensor:
    """Whether each line's best path spells its number exactly ``[batch]`` (bool)."""
    width = max(symbols.shape[1], digits.shape[1])
    places = torch.arange(width, device=digits.device)
    truth = torch.where(places < lengths.unsqueeze(1), F.pad(digits, (0, width - digits.shape[1])), -1)
    read = F.pad(symbols, (0, width - symbols.shape[1]), value=-1)
    return (counts == lengths) & (read == truth).all(dim=1)


def spelled(symbols: Tensor, counts: Tensor) -> list[str]:
    """The numbers as strings: each row's first ``counts`` symbols."""
    return ["".join(map(str, row[:count])) for row, count in zip(symbols.tolist(), counts.tolist())]


def pretrained_number_reader(map_location=None) -> NumberReader:
    """The number reader the package ships (the README's model card says what it reads well and what
    not): ``pretrained_number_reader().eval()(lines)`` gives scores ``[batch, steps, 11]`` for raw
    ``[batch, 28, width]`` lines in [0, 1]; ``best_paths`` and ``spelled`` turn them into numbers."""
    return NumberReader.load_from_checkpoint(bundled_path(NUMBER_READER), map_location=map_location)
