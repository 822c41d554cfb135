"""The training recipe around the network: loss, metrics, optimizer, schedule and logging."""

from typing import Literal

import lightning as L
import torch
from torch import Tensor
from torch.nn import functional as F
from torchmetrics import MaxMetric, MeanMetric
from torchmetrics.classification import MulticlassAccuracy

from lstm_mnist.data import NUM_CLASSES
from lstm_mnist.errors import UserInputError
from lstm_mnist.metric_names import TEST_ACC, TEST_LOSS, TRAIN_ACC, TRAIN_LOSS, VAL_ACC, VAL_ACC_BEST, VAL_LOSS
from lstm_mnist.model import STEP_NAME, Cell, LSTMClassifier, Order

# Mean and standard deviation of MNIST's 60k training pixels in [0, 1].
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


class LitLSTMClassifier(L.LightningModule):
    """Trains :class:`LSTMClassifier` with cross-entropy and Adam.

    Input standardisation and the reading order live here rather than in the data so that a
    checkpoint alone says how to read raw pixels in [0, 1]: test, predict and
    ``load_from_checkpoint`` need no config to get it right.

    Args:
        hidden_size: features in the recurrent layer's hidden state.
        num_layers: recurrent layers stacked on each other.
        dropout: dropout between stacked layers.
        bidirectional: also read the sequence backwards.
        forget_bias: LSTM only: initial bias of the forget gates; unset means 1.0 (gates open)
            for an LSTM, 0 keeps PyTorch's initialisation. Setting it for a GRU or RNN is an error.
        cell: the recurrent layer: ``lstm`` (``nn.LSTM``), ``gru`` (``nn.GRU``) or ``rnn``
            (``nn.RNN``, tanh).
        order: how an image becomes a sequence: ``rows`` (28 steps of 28 pixels), ``columns``,
            ``pixels`` (784 steps of one pixel: sequential MNIST) or ``permuted`` (784 pixels in
            one fixed random order: permuted MNIST).
        permutation_seed: draws the pixel order of ``permuted`` (kept in checkpoints).
        normalize_input: standardise pixels with MNIST's mean and std before the recurrent layer.
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
        hidden_size: int = 64,
        num_layers: int = 1,
        dropout: float = 0.0,
        bidirectional: bool = False,
        forget_bias: float | None = None,
        cell: Cell = "lstm",
        order: Order = "rows",
        permutation_seed: int = 0,
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
        if forget_bias and cell != "lstm":
            raise UserInputError(
                f"--model.forget_bias is a setting of LSTM cells only, not of --model.cell {cell}: leave it unset"
            )
        if forget_bias is None:
            forget_bias = 1.0 if cell == "lstm" else 0.0
        self.save_hyperparameters()
        self.net = LSTMClassifier(
            hidden_size=hidden_size,
            num_layers=num_layers,
            dropout=dropout,
            bidirectional=bidirectional,
            forget_bias=forget_bias,
            cell=cell,
            order=order,
            permutation_seed=permutation_seed,
        )
        # Our own tensors go in: skipping the argument checks saves device syncs.
        self.val_acc = MulticlassAccuracy(NUM_CLASSES, average="micro", validate_args=False)
        self.test_acc = MulticlassAccuracy(NUM_CLASSES, average="micro", validate_args=False)
        self.val_loss = MeanMetric()
        self.test_loss = MeanMetric()
        self.val_acc_best = MaxMetric()
        self.val_acc_best.persistent(True)  # kept in checkpoints, so a resumed run remembers its best
        self._train_window: Tensor | None = None  # [loss sum, correct, images] since the last log

    def prepare(self, images: Tensor) -> Tensor:
        """Raw pixels in [0, 1] -> what the LSTM was trained on."""
        images = images.float()
        if self.hparams.normalize_input:
            images = (images - MNIST_MEAN) / MNIST_STD
        return images

    def forward(self, images: Tensor) -> Tensor:
        """Logits ``[batch, 10]`` for raw images in [0, 1], ``[batch, 28, 28]`` or ``[batch, 1, 28, 28]``."""
        return self.net(self.prepare(images))

    def logits_after_each_step(self, images: Tensor) -> Tensor:
        """``[batch, steps, 10]``: the answer after each row, column or pixel read."""
        return self.net.logits_after_each_step(self.prepare(images))

    def answer_and_steps(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """``(logits [batch, 10], logits after each step [batch, steps, 10])``. One-directional, the
        last step's scores are the answer (one pass); bidirectional, they are not (the backward
        direction has read a single step there), so the answer takes a second pass."""
        step_logits = self.logits_after_each_step(images)
        return (self(images) if self.hparams.bidirectional else step_logits[:, -1]), step_logits

    @property
    def step_name(self) -> str:
        """What one time step reads: ``rows``, ``columns`` or ``pixels``."""
        return STEP_NAME[self.hparams.order]

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
        cls, checkpoint_path, map_location=None, hparams_file=None, strict=None, weights_only=True, **kwargs
    ):
        """Lightning's loader, unpickling only tensors and plain values unless told otherwise."""
        return super().load_from_checkpoint(
            checkpoint_path,
            map_location=map_location,
            hparams_file=hparams_file,
            strict=strict,
            weights_only=weights_only,
            **kwargs,
        )

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
