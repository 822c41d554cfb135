"""The training recipe around a network: loss, metrics, optimizer, schedule and logging."""

from pathlib import Path
from typing import Any, Literal

import lightning as L
import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torchmetrics import MaxMetric, MeanMetric
from torchmetrics.classification import MulticlassAccuracy

from lstm_mnist.data.mnist import trained_on
from lstm_mnist.data.mnist_format import MNIST
from lstm_mnist.errors import UserInputError
from lstm_mnist.nets.network import Network, class_path
from lstm_mnist.storage.bundled_model import bundled_path
from lstm_mnist.storage.checkpoint_reader import build_network, read_checkpoint
from lstm_mnist.training.metric_names import (
    TEST_ACC,
    TEST_LOSS,
    TRAIN_ACC,
    TRAIN_LOSS,
    VAL_ACC,
    VAL_ACC_BEST,
    VAL_LOSS,
)


class DigitClassifier(L.LightningModule):
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
        super().__init__()
        if not 0.0 <= beta2 < 1.0:
            raise UserInputError(f"--model.beta2 must be at least 0 and below 1, got {beta2}")
        self.net = net
        self.trained_on = "MNIST"  # what the weights learned from, where a checkpoint says (from_checkpoint)
        # The network is described, never pickled: checkpoints hold only tensors and plain values.
        self.save_hyperparameters(ignore=["net"])
        self.hparams["net"] = network_config(self.net)
        # Our own tensors go in: skipping the argument checks saves device syncs.
        self.val_acc = MulticlassAccuracy(MNIST.classes, average="micro", validate_args=False)
        self.test_acc = MulticlassAccuracy(MNIST.classes, average="micro", validate_args=False)
        self.val_loss = MeanMetric()
        self.test_loss = MeanMetric()
        self.val_acc_best = MaxMetric()
        self.val_acc_best.persistent(True)  # kept in checkpoints, so a resumed run remembers its best
        self._train_window: Tensor | None = None  # [loss sum, correct, images] since the last log

    def standardize(self, images: Tensor) -> Tensor:
        """Raw pixels in [0, 1] -> what the network was trained on."""
        images = images.float()
        return MNIST.standardized(images) if self.hparams.normalize_input else images

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

    @property
    def description(self) -> str:
        """The network in a few words, for messages and the demo page."""
        return getattr(self.net, "description", type(self.net).__name__)

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        images, labels = batch
        logits = self(images)
        loss = F.cross_entropy(logits, labels)
        # Loss and accuracy are summed on the device every step and logged as the mean over the
        # steps since the last write: a ``self.log`` call costs Lightning about half a millisecond
        # of Python, more than this LSTM's forward pass, so it runs only when the logger writes.
        correct = (logits.argmax(dim=1) == labels).sum()
        window = torch.stack([loss.detach() * len(labels), correct.float(), loss.new_tensor(float(len(labels)))])
        self._train_window = window if self._train_window is None else self._train_window + window
        if (self.global_step + 1) % self.trainer.log_every_n_steps == 0 or self.trainer.is_last_batch:
            loss_sum, correct_sum, count = self._train_window
            self._stop_if_diverged(loss_sum / count)
            self.log_dict(
                {TRAIN_LOSS: loss_sum / count, TRAIN_ACC: correct_sum / count},
                prog_bar=True,
                batch_size=len(labels),
            )
            self._train_window = None
        return loss

    def _stop_if_diverged(self, loss: Tensor) -> None:
        """A NaN or infinite loss ends the run before any checkpoint of it is written."""
        if not torch.isfinite(loss):
            raise UserInputError(
                f"training diverged at step {self.global_step + 1}: the loss is {float(loss)}; lower --model.lr "
                "or set --trainer.gradient_clip_val (checkpoints written before this step are kept as they were)"
            )

    @classmethod
    def load_from_checkpoint(
        cls, checkpoint_path: str | Path, map_location=None, strict: bool = True, **overrides: Any
    ) -> "DigitClassifier":
        """The model a checkpoint of this project holds, read safely (only tensors and plain values
        are unpickled, and the network must be one of ``lstm_mnist.nets`` or already imported), with
        ``overrides`` of its recipe's hyperparameters. Checkpoints from before the network was a
        part load too (storage/earlier_forms.py)."""
        checkpoint = read_checkpoint(checkpoint_path, map_location=map_location)
        model = cls.from_checkpoint(checkpoint, checkpoint_path, strict=strict, **overrides)
        if isinstance(map_location, (str, torch.device)):
            model = model.to(map_location)
        return model

    @classmethod
    def from_checkpoint(
        cls, checkpoint: dict, path: str | Path, strict: bool = True, **overrides: Any
    ) -> "DigitClassifier":
        """The model built from a checkpoint's hyperparameters (as :func:`read_checkpoint` gives
        them) with its weights loaded, or a one-line ``UserInputError`` saying why they do not fit."""
        settings = {k: v for k, v in checkpoint["hyper_parameters"].items() if not k.startswith("_")}
        settings.update(overrides)
        try:
            net = build_network(settings.pop("net"))
            model = cls(net=net, **settings)
            model.load_state_dict(checkpoint["state_dict"], strict=strict)
        except (RuntimeError, TypeError, ValueError) as error:
            first_line = str(error).strip().splitlines()[-1].strip()
            raise UserInputError(
                f"{path}: its weights do not fit the hyperparameters stored with them ({first_line})"
            ) from error
        model.trained_on = trained_on(checkpoint)
        return model

    def on_train_start(self) -> None:
        scheduler = self.lr_schedulers()
        if self.hparams.schedule == "one_cycle" and scheduler.total_steps != self.trainer.estimated_stepping_batches:
            # Only possible when resuming: the schedule was planned for the original run's length.
            raise UserInputError(
                f"the checkpoint's one-cycle schedule spans {scheduler.total_steps} steps but this run plans "
                f"{self.trainer.estimated_stepping_batches}: resume with the --trainer.max_epochs the run "
                "started with (a one-cycle run cannot be extended)"
            )

    def _evaluate(self, batch: tuple[Tensor, Tensor], loss_metric: MeanMetric, acc_metric: MulticlassAccuracy) -> None:
        images, labels = batch
        logits = self(images)
        loss_metric.update(F.cross_entropy(logits, labels), weight=len(labels))
        acc_metric.update(logits, labels)

    def validation_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        self._evaluate(batch, self.val_loss, self.val_acc)

    def on_validation_epoch_end(self) -> None:
        accuracy = self.val_acc.compute()
        metrics = {VAL_LOSS: self.val_loss.compute(), VAL_ACC: accuracy}
        self.val_loss.reset()
        self.val_acc.reset()
        if not self.trainer.sanity_checking:  # the best counts real validations only
            self._stop_if_diverged(metrics[VAL_LOSS])
            self.val_acc_best.update(accuracy)
            metrics[VAL_ACC_BEST] = self.val_acc_best.compute()
        # For checkpoints and the progress bar, through Lightning (the torchmetrics objects have
        # already reduced across processes; sync_dist only says so)...
        self.log(VAL_ACC, accuracy, prog_bar=True, logger=False, sync_dist=True)
        self.log_dict({k: v for k, v in metrics.items() if k != VAL_ACC}, logger=False, sync_dist=True)
        # ...and to the logger directly: Lightning would file validation metrics under the step
        # before the one that triggered them (49, 99, ...), not under the steps taken (50, 100, ...).
        if not self.trainer.sanity_checking:
            for logger in self.loggers:
                logger.log_metrics({name: float(value) for name, value in metrics.items()}, step=self.global_step)
                logger.save()  # on disk before the checkpoint of this step: a killed run's events cover it

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

    def configure_optimizers(self):
        optimizer = torch.optim.Adam(
            self.parameters(),
            lr=self.hparams.lr,
            weight_decay=self.hparams.weight_decay,
            betas=(0.9, self.hparams.beta2),
            # One kernel for the whole update instead of a dozen (0.18 ms of a 1.46 ms step on a
            # 2-core CPU); Lightning cannot clip gradients of a fused optimizer under mixed
            # precision, so those runs keep the default.
            fused=self.device.type in ("cpu", "cuda") and not str(self.trainer.precision).endswith("mixed"),
        )
        if self.hparams.schedule == "constant":
            return optimizer
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer,
            max_lr=self.hparams.lr,
            total_steps=self.trainer.estimated_stepping_batches,
            pct_start=self.hparams.warmup_fraction,
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


def network_config(net: nn.Module) -> dict[str, Any]:
    """How a checkpoint names a network: its class and the settings it was built with, as a config
    gives them (``class_path``, ``init_args``)."""
    if not isinstance(net, Network):
        raise TypeError(
            f"{type(net).__name__} does not record its settings: derive it from lstm_mnist.nets.network.Network "
            "so that checkpoints can rebuild it"
        )
    return {"class_path": class_path(type(net)), "init_args": net.settings}


def pretrained(map_location=None) -> DigitClassifier:
    """The model the package ships (storage/bundled_model.py; the README's model card says what it
    reads well and what not), ready to read digits: ``pretrained().eval()(images)`` gives logits for
    raw ``[batch, 28, 28]`` images in [0, 1]."""
    return DigitClassifier.load_from_checkpoint(bundled_path(), map_location=map_location)
