"""Pictures in TensorBoard: where the model errs, which digits it confuses, how its answer forms.

Drawn every ``every_n_validations`` validations and once at test, with matplotlib through
Lightning's TensorBoard logger. Collecting what a picture needs costs nothing on the
validations that draw none.
"""

import lightning as L
import torch
from lightning.pytorch.loggers import TensorBoardLogger
from torch import Tensor
from torch.utils.tensorboard.summary import hparams

from lstm_mnist.data import NUM_CLASSES
from lstm_mnist.metric_names import TEST_ACC, TEST_ACC_LAST, VAL_ACC_BEST

# Scalars that the HPARAMS tab shows beside each run's hyperparameters.
HPARAM_METRICS = (VAL_ACC_BEST, TEST_ACC, TEST_ACC_LAST)


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
    for true in range(NUM_CLASSES):
        for predicted in range(NUM_CLASSES):
            count = int(confusion[true, predicted])
            if count:
                colour = "white" if shade[true, predicted] > shade.max() / 2 else "black"
                axes.text(predicted, true, str(count), ha="center", va="center", fontsize=7, color=colour)
    axes.set(xlabel="predicted", ylabel="true", xticks=range(10), yticks=range(10))
    return figure


def misclassified_figure(images: Tensor, labels: Tensor, predictions: Tensor, columns: int = 8):
    """A grid of wrongly classified digits, each captioned ``true -> predicted``.

    The digits are tiled into one picture and drawn with a single ``imshow``: a subplot per
    digit would take matplotlib about half a second.
    """
    rows = max(1, -(-len(images) // columns))
    cell, caption = 28 + 2, 9  # pixels per digit with its margin, and room for its caption
    sheet = torch.ones(rows * (cell + caption), columns * cell)
    for index, image in enumerate(images):
        top, left = (index // columns) * (cell + caption) + caption, (index % columns) * cell
        sheet[top + 1 : top + 29, left + 1 : left + 29] = 1.0 - image.float()  # dark digit on white
    figure, axes = new_figure((columns * 0.9, rows * 1.1), margins=(0.05, 0.05, 0.05, 0.05))
    axes.imshow(sheet.numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    for index in range(len(images)):
        top, left = (index // columns) * (cell + caption), (index % columns) * cell
        text = f"{int(labels[index])} -> {int(predictions[index])}"
        axes.text(left + cell / 2, top + caption - 1, text, ha="center", va="bottom", fontsize=7, color="red")
    axes.axis("off")
    return figure


def answer_forms_figure(true_class_probability: Tensor, step_name: str = "rows"):
    """Probability of the true digit after each step read, one line per digit (``[10, steps]``);
    ``step_name`` says what a step is: rows, columns or pixels."""
    figure, axes = new_figure((6.5, 4), margins=(0.65, 0.5, 0.1, 0.1))
    steps = torch.arange(1, true_class_probability.shape[1] + 1)
    for digit in range(NUM_CLASSES):
        axes.plot(steps.numpy(), true_class_probability[digit].numpy(), label=str(digit))
    axes.set(
        xlabel=f"{step_name} read", ylabel="probability of the true digit", ylim=(0, 1.02), xlim=(1, int(steps[-1]))
    )
    axes.legend(title="digit", ncol=2, fontsize=7)
    axes.grid(alpha=0.3)
    return figure


class TensorBoardPictures(L.Callback):
    """Confusion matrix, misclassified digits and "how the answer forms", plus the HPARAMS entry.

    "How the answer forms" follows the model's reading order: the x axis counts rows, columns
    or pixels read.

    Args:
        every_n_validations: draw at every n-th validation during fit (1 draws at all of them;
            a set of three pictures costs about a quarter of a second on a CPU), and at test; 0
            draws none at all (short runs whose pictures nobody looks at, such as the tests'). Under
            DDP the pictures show rank 0's share of the images.
        max_misclassified: digits shown in the grid.
    """

    def __init__(self, every_n_validations: int = 20, max_misclassified: int = 32) -> None:
        self.every_n_validations = every_n_validations
        self.max_misclassified = max_misclassified
        self._validations = 0
        self._drawing = False
        self._declared = False  # the HPARAMS entry, once per process (a fit also tests at its end)

    @staticmethod
    def _writer(trainer: L.Trainer):
        logger = trainer.logger
        return logger.experiment if isinstance(logger, TensorBoardLogger) and trainer.is_global_zero else None

    def _start(self) -> None:
        self._confusion = torch.zeros(NUM_CLASSES, NUM_CLASSES, dtype=torch.long)
        self._wrong: list[tuple[Tensor, Tensor, Tensor]] = []
        self._per_digit: list[Tensor] = []
        self._counts = torch.zeros(NUM_CLASSES)

    def _collect(self, pl_module: L.LightningModule, batch: tuple[Tensor, Tensor]) -> None:
        images, labels = batch
        with torch.inference_mode():
            final, step_logits = pl_module.answer_and_steps(images)  # [batch, classes], [batch, steps, classes]
        predictions = final.argmax(dim=1)
        labels_cpu, predictions_cpu = labels.cpu(), predictions.cpu()
        self._confusion += torch.bincount(
            labels_cpu * NUM_CLASSES + predictions_cpu, minlength=NUM_CLASSES * NUM_CLASSES
        ).view(NUM_CLASSES, NUM_CLASSES)
        wrong = (labels_cpu != predictions_cpu).nonzero().flatten()
        taken = sum(len(w[0]) for w in self._wrong)
        wrong = wrong[: max(0, self.max_misclassified - taken)]
        if len(wrong):
            self._wrong.append((images[wrong.to(images.device)].cpu(), labels_cpu[wrong], predictions_cpu[wrong]))
        true_probability = (
            step_logits.softmax(dim=-1)
            .gather(2, labels.view(-1, 1, 1).expand(-1, step_logits.shape[1], 1))
            .squeeze(2)
            .float()
            .cpu()
        )  # [batch, steps]
        self._per_digit.append(
            torch.zeros(NUM_CLASSES, step_logits.shape[1]).index_add_(0, labels_cpu, true_probability)
        )
        self._counts += torch.bincount(labels_cpu, minlength=NUM_CLASSES)

    def _draw(self, trainer: L.Trainer, pl_module: L.LightningModule, prefix: str) -> None:
        writer = self._writer(trainer)
        if writer is None:
            return
        step = trainer.global_step
        writer.add_figure(f"{prefix}/confusion_matrix", confusion_figure(self._confusion), step)
        if self._wrong:
            images, labels, predictions = (torch.cat(parts) for parts in zip(*self._wrong))
            writer.add_figure(f"{prefix}/misclassified", misclassified_figure(images, labels, predictions), step)
        average = sum(self._per_digit) / self._counts.clamp(min=1).unsqueeze(1)
        writer.add_figure(f"{prefix}/answer_forms", answer_forms_figure(average, pl_module.step_name), step)

    # validation during fit
    def on_validation_epoch_start(self, trainer, pl_module):
        self._drawing = (
            not trainer.sanity_checking
            and trainer.state.fn == "fit"
            and self.every_n_validations > 0
            and self._validations % self.every_n_validations == self.every_n_validations - 1
        )
        if not trainer.sanity_checking:
            self._validations += 1
        if self._drawing:
            self._start()

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        if self._drawing:
            self._collect(pl_module, batch)

    def on_validation_epoch_end(self, trainer, pl_module):
        if self._drawing:
            self._draw(trainer, pl_module, "val")

    # test (without a TensorBoard writer, as in the end-of-fit test of last.ckpt, nothing to draw)
    def on_test_epoch_start(self, trainer, pl_module):
        self._drawing = self.every_n_validations > 0 and self._writer(trainer) is not None
        if self._drawing:
            self._start()

    def on_test_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        if self._drawing:
            self._collect(pl_module, batch)

    def on_test_epoch_end(self, trainer, pl_module):
        if self._drawing:
            self._draw(trainer, pl_module, "test")

    # HPARAMS tab
    def on_fit_start(self, trainer, pl_module):
        self._declare_hparams(trainer, pl_module)

    def on_test_start(self, trainer, pl_module):
        if not self._declared:
            self._declare_hparams(trainer, pl_module)

    def _declare_hparams(self, trainer, pl_module) -> None:
        """Register the run's hyperparameters and the metric tags the HPARAMS tab shows for them.

        TensorBoard reads each metric's value from the run's scalar of the same tag, so nothing
        is logged twice.
        """
        writer = self._writer(trainer)
        if writer is None:
            return
        params = {
            key: value
            for key, value in pl_module.hparams.items()
            if not key.startswith("_") and isinstance(value, (int, float, str, bool))
        }
        experiment, start, end = hparams(params, {name: 0.0 for name in HPARAM_METRICS})
        file_writer = writer._get_file_writer()
        for summary in (experiment, start, end):
            file_writer.add_summary(summary)
        self._declared = True
