"""Pictures of a run: where the model errs, which digits it confuses, how its answer forms (a number
reader's: the lines it misread and how the number forms along a line, line_pictures.py).

Drawn every ``every_n_validations`` validations and once at test, with matplotlib (figures.py),
and given to every logger that keeps images (figure_loggers.py: TensorBoard, MLflow, W&B).
Collecting what a picture needs costs nothing on the validations that draw none.
"""

import lightning as L
import torch
from torch import Tensor

from lstm_mnist.data.mnist_format import MNIST
from lstm_mnist.storage.earlier_forms import PICTURES_STATE_KEY
from lstm_mnist.training.confusions import confusion_matrix
from lstm_mnist.training.figure_loggers import figure_loggers, send_figure
from lstm_mnist.training.figures import answer_forms_figure, confusion_figure, misclassified_figure
from lstm_mnist.training.line_pictures import LinePictureSet
from lstm_mnist.training.number_reader import NumberReader


class Pictures(L.Callback):
    """Confusion matrix, misclassified digits and "how the answer forms".

    "How the answer forms" follows the model's reading order: at t rows, columns or pixels, the
    probability of the true digit that the network would give had it stopped reading there
    (``answers_after_steps``; a bidirectional network reads each of 28 prefixes anew).

    Args:
        every_n_validations: draw at every n-th validation during fit (1 draws at all of them;
            a set of three pictures costs about a quarter of a second on a CPU), and at test; 0
            draws none at all (short runs whose pictures nobody looks at, such as the tests'). Under
            DDP the pictures show rank 0's share of the images.
        max_misclassified: digits shown in the grid.
        chart_images: how many of the images (the first) "how the answer forms" averages over: a
            bidirectional network reads 28 prefixes of each, 14.5 times the work of its answer
            (BENCHMARKS.md); 1,000 still give about 100 of each digit.
    """

    def __init__(self, every_n_validations: int = 20, max_misclassified: int = 32, chart_images: int = 1000) -> None:
        self.every_n_validations = every_n_validations
        self.max_misclassified = max_misclassified
        self.chart_images = chart_images
        self._validations = 0
        self._drawing = False

    def _start(self, pl_module: L.LightningModule) -> None:
        # A number reader's pictures are its own (line_pictures.py); a digit classifier's follow.
        self._lines = LinePictureSet(self.max_misclassified) if isinstance(pl_module, NumberReader) else None
        self._confusion = torch.zeros(MNIST.classes, MNIST.classes, dtype=torch.long)
        self._wrong: list[tuple[Tensor, Tensor, Tensor]] = []
        self._per_digit: list[Tensor] = []
        self._counts = torch.zeros(MNIST.classes)  # of the images the chart averages over

    def _collect(self, pl_module: L.LightningModule, batch: tuple[Tensor, Tensor]) -> None:
        if self._lines is not None:
            return self._lines.collect(pl_module, batch)
        images, labels = batch
        charted = max(0, min(len(images), self.chart_images - int(self._counts.sum())))
        with torch.inference_mode():
            if charted:
                # [charted, classes], [charted, points, classes]: the answer and how it forms, in one
                # pass where the network reads one way
                final, steps, step_logits = pl_module.answer_and_steps(images[:charted])
                if charted < len(images):
                    final = torch.cat([final, pl_module(images[charted:])])
            else:
                final, step_logits = pl_module(images), None
        predictions = final.argmax(dim=1)
        labels_cpu, predictions_cpu = labels.cpu(), predictions.cpu()
        self._confusion += confusion_matrix(labels_cpu, predictions_cpu)
        wrong = (labels_cpu != predictions_cpu).nonzero().flatten()
        taken = sum(len(w[0]) for w in self._wrong)
        wrong = wrong[: max(0, self.max_misclassified - taken)]
        if len(wrong):
            self._wrong.append((images[wrong.to(images.device)].cpu(), labels_cpu[wrong], predictions_cpu[wrong]))
        if step_logits is not None:  # a network that reads in steps: how its answer forms
            self._steps = steps
            charted_labels = labels[:charted]
            true_probability = (
                step_logits.softmax(dim=-1)
                .gather(2, charted_labels.view(-1, 1, 1).expand(-1, step_logits.shape[1], 1))
                .squeeze(2)
                .float()
                .cpu()
            )  # [charted, points]
            self._per_digit.append(
                torch.zeros(MNIST.classes, step_logits.shape[1]).index_add_(0, labels_cpu[:charted], true_probability)
            )
            self._counts += torch.bincount(labels_cpu[:charted], minlength=MNIST.classes)

    def _draw(self, trainer: L.Trainer, pl_module: L.LightningModule, prefix: str) -> None:
        sends = figure_loggers(trainer)
        if not sends:
            return
        step = trainer.global_step
        if self._lines is not None:
            return self._lines.draw(sends, prefix, step)
        send_figure(sends, f"{prefix}/confusion_matrix", confusion_figure(self._confusion), step)
        if self._wrong:
            images, labels, predictions = (torch.cat(parts) for parts in zip(*self._wrong))
            send_figure(sends, f"{prefix}/misclassified", misclassified_figure(images, labels, predictions), step)
        if self._per_digit:
            average = sum(self._per_digit) / self._counts.clamp(min=1).unsqueeze(1)
            figure = answer_forms_figure(average, self._steps, pl_module.step_name)
            send_figure(sends, f"{prefix}/answer_forms", figure, step)

    # a resumed fit draws at the validations the run would have drawn at, not counting anew
    @property
    def state_key(self) -> str:
        return PICTURES_STATE_KEY  # the name checkpoints file the state under (earlier_forms.py)

    def state_dict(self) -> dict:
        return {"validations": self._validations}

    def load_state_dict(self, state_dict: dict) -> None:
        self._validations = state_dict["validations"]

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
            self._start(pl_module)

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        if self._drawing:
            self._collect(pl_module, batch)

    def on_validation_epoch_end(self, trainer, pl_module):
        if self._drawing:
            self._draw(trainer, pl_module, "val")

    # test (without a logger, as in the end-of-fit test of last.ckpt, nothing to draw)
    def on_test_epoch_start(self, trainer, pl_module):
        self._drawing = self.every_n_validations > 0 and bool(figure_loggers(trainer))
        if self._drawing:
            self._start(pl_module)

    def on_test_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        if self._drawing:
            self._collect(pl_module, batch)

    def on_test_epoch_end(self, trainer, pl_module):
        if self._drawing:
            self._draw(trainer, pl_module, "test")
