"""The training recipe around a network that classifies a digit: loss, metrics and answers (the
optimizer, schedule and logging are every task's: trained_task.py)."""

from typing import Literal

from torch import Tensor, nn
from torch.nn import functional as F
from torchmetrics import MaxMetric, MeanMetric
from torchmetrics.classification import MulticlassAccuracy

from lstm_mnist.data.mnist import MNISTDataModule
from lstm_mnist.data.mnist_format import MNIST
from lstm_mnist.storage.bundled_model import DIGIT_READER, bundled_path
from lstm_mnist.training.metric_names import TEST_ACC, TEST_LOSS, VAL_ACC, VAL_LOSS
from lstm_mnist.training.trained_task import TrainedTask


class DigitClassifier(TrainedTask):
    """Trains a network that maps images to logits with cross-entropy and Adam.

    The network is a part passed in (``--model.net``, a class of ``lstm_mnist.nets``; the default
    config's is the LSTM), and its settings are its own. Checkpoints record which network and its
    settings.

    Input standardisation lives here rather than in the data, and the reading order in the
    network, so that a checkpoint alone says how to read raw pixels in [0, 1]: test, predict and
    ``load_from_checkpoint`` need no config to get it right.

    Args:
        net: the network: any ``nn.Module`` that maps ``[batch, 28, 28]`` images to ``[batch, 10]``
            logits and derives from ``lstm_mnist.nets.network.Network`` (so that checkpoints can
            rebuild it). The default config's is ``RecurrentClassifier``; its settings may be given
            directly under model (``--model.hidden_size`` is ``--model.net.hidden_size``), and
            ``--model.net.help RecurrentClassifier`` lists them.
        normalize_input: standardise pixels with MNIST's mean and std before the network.
        lr: Adam's learning rate; the peak rate when ``schedule`` is ``one_cycle``.
        weight_decay: Adam's L2 penalty.
        beta2: Adam's decay rate for its running mean of squared gradients. PyTorch's 0.999
            averages over about 1,000 steps, a third of this 3-epoch run, so the step sizes
            lag behind the gradients; 0.95 (about 20 steps) gave 0.16 points more test accuracy
            on average over twelve seeds (BENCHMARKS.md). Under ``one_cycle`` the schedule moves beta1.
        schedule: ``constant`` keeps ``lr``; ``one_cycle`` warms up to it and anneals to ~0
            over the whole run, stepped every batch.
        warmup_fraction: share of the run spent warming up (``one_cycle`` only).
    """

    data_class = MNISTDataModule  # the data it reads, where a checkpoint of it is used with another task's config
    bundled_file = DIGIT_READER  # what validate, test and predict use when given no checkpoint

    def __init__(
        self,
        net: nn.Module,
        normalize_input: bool = True,
        lr: float = 5e-3,
        weight_decay: float = 0.0,
        beta2: float = 0.95,
        schedule: Literal["constant", "one_cycle"] = "one_cycle",
        warmup_fraction: float = 0.15,
    ) -> None:
        super().__init__(net, beta2)
        self.save_hyperparameters(ignore=["net"])
        self.describe_network()
        # Our own tensors go in: skipping the argument checks saves device syncs.
        self.val_acc = MulticlassAccuracy(MNIST.classes, average="micro", validate_args=False)
        self.test_acc = MulticlassAccuracy(MNIST.classes, average="micro", validate_args=False)
        self.val_loss = MeanMetric()
        self.test_loss = MeanMetric()
        self.val_acc_best = MaxMetric()
        self.val_acc_best.persistent(True)  # kept in checkpoints, so a resumed run remembers its best

    def forward(self, images: Tensor) -> Tensor:
        """Logits ``[batch, 10]`` for raw images in [0, 1], ``[batch, 28, 28]`` or ``[batch, 1, 28, 28]``."""
        return self.net(self.standardize(images))

    def answers_after_steps(self, images: Tensor) -> tuple[list[int], Tensor]:
        """``(steps, logits [batch, len(steps), 10])`` for raw images: what the network would answer
        had it stopped reading after t rows, columns or pixels, for each t of ``steps`` (a network
        that reads in steps only; the last is the answer)."""
        return self.net.answers_after_steps(self.standardize(images))

    def answer_and_steps(self, images: Tensor) -> tuple[Tensor, list[int] | None, Tensor | None]:
        """``(logits [batch, 10], steps, logits after those steps [batch, len(steps), 10])`` for raw
        images: the answer and how it forms as a sequence network reads. A network that does not
        read in steps gives ``None`` for the last two."""
        if hasattr(self.net, "answer_and_steps"):
            return self.net.answer_and_steps(self.standardize(images))
        return self(images), None, None

    @property
    def step_name(self) -> str:
        """What one time step of the network reads: ``rows``, ``columns`` or ``pixels``."""
        return getattr(self.net, "step_name", "steps")

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        images, labels = batch
        logits = self(images)
        loss = F.cross_entropy(logits, labels)
        self.log_training(loss, (logits.argmax(dim=1) == labels).sum(), len(labels))
        return loss

    def _evaluate(self, batch: tuple[Tensor, Tensor], loss_metric: MeanMetric, acc_metric: MulticlassAccuracy) -> None:
        images, labels = batch
        logits = self(images)
        loss_metric.update(F.cross_entropy(logits, labels), weight=len(labels))
        acc_metric.update(logits, labels)

    def validation_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        self._evaluate(batch, self.val_loss, self.val_acc)

    def on_validation_epoch_end(self) -> None:
        metrics = {VAL_LOSS: self.val_loss.compute(), VAL_ACC: self.val_acc.compute()}
        self.val_loss.reset()
        self.val_acc.reset()
        self.log_validation(metrics)

    def test_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        self._evaluate(batch, self.test_loss, self.test_acc)

    def on_test_epoch_end(self) -> None:
        self.log(TEST_LOSS, self.test_loss.compute(), sync_dist=True)
        self.log(TEST_ACC, self.test_acc.compute(), sync_dist=True)
        self.test_loss.reset()
        self.test_acc.reset()

    def predict_step(self, batch, batch_idx: int) -> dict[str, Tensor]:
        """The predicted class and the probability of every class for each image."""
        images = batch[0] if isinstance(batch, (tuple, list)) else batch
        probabilities = self(images).softmax(dim=-1)
        return {"prediction": probabilities.argmax(dim=-1), "probabilities": probabilities}


def pretrained(map_location=None) -> DigitClassifier:
    """The model the package ships (storage/bundled_model.py; the README's model card says what it
    reads well and what not), ready to read digits: ``pretrained().eval()(images)`` gives logits for
    raw ``[batch, 28, 28]`` images in [0, 1]."""
    return DigitClassifier.load_from_checkpoint(bundled_path(), map_location=map_location)
