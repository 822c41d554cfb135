"""What every task of this project shares, whatever it reads: a network part, Adam with a one-cycle
schedule, a stop on a diverged loss, validation figures filed under the step that made them, and
loading from a checkpoint the safe way.

``DigitClassifier`` (one digit an image) and ``NumberReader`` (a whole number a line) derive from
it and add their loss, metrics and answers.
"""

from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch import Tensor, nn

from lstm_mnist.data.mnist import trained_on
from lstm_mnist.data.mnist_format import MNIST
from lstm_mnist.errors import UserInputError
from lstm_mnist.nets.network import Network, class_path
from lstm_mnist.storage.checkpoint_reader import build_network, read_checkpoint
from lstm_mnist.training.metric_names import TRAIN_ACC, TRAIN_LOSS, VAL_ACC, VAL_ACC_BEST, VAL_LOSS

RANDOM_STATE = "random_state"  # the checkpoint's entry for torch's generators


class TrainedTask(L.LightningModule):
    """The base of the tasks. A subclass takes ``net`` and the recipe's settings (``lr``,
    ``weight_decay``, ``beta2``, ``schedule``, ``warmup_fraction``, ``normalize_input``) as its
    own arguments, calls ``save_hyperparameters(ignore=["net"])`` and then ``describe_network()``."""

    def __init__(self, net: nn.Module, beta2: float) -> None:
        super().__init__()
        if not 0.0 <= beta2 < 1.0:
            raise UserInputError(f"--model.beta2 must be at least 0 and below 1, got {beta2}")
        self.net = net
        self.trained_on = "MNIST"  # what the weights learned from, where a checkpoint says (from_checkpoint)
        self._train_window: Tensor | None = None  # [loss sum, correct, examples] since the last log

    def describe_network(self) -> None:
        """The network is described, never pickled: checkpoints hold only tensors and plain values."""
        self.hparams["net"] = network_config(self.net)

    def standardize(self, images: Tensor) -> Tensor:
        """Raw pixels in [0, 1] -> what the network was trained on."""
        images = images.float()
        return MNIST.standardized(images) if self.hparams.normalize_input else images

    @property
    def description(self) -> str:
        """The network in a few words, for messages and the demo page."""
        return getattr(self.net, "description", type(self.net).__name__)

    def log_training(self, loss: Tensor, correct: Tensor, count: int) -> None:
        """Loss and accuracy are summed on the device every step and logged as the mean over the
        steps since the last write: a ``self.log`` call costs Lightning about half a millisecond of
        Python, more than the LSTM's forward pass, so it runs only when the logger writes."""
        window = torch.stack([loss.detach() * count, correct.float(), loss.new_tensor(float(count))])
        self._train_window = window if self._train_window is None else self._train_window + window
        if (self.global_step + 1) % self.trainer.log_every_n_steps == 0 or self.trainer.is_last_batch:
            loss_sum, correct_sum, total = self._train_window
            self.stop_if_diverged(loss_sum / total)
            self.log_dict(
                {TRAIN_LOSS: loss_sum / total, TRAIN_ACC: correct_sum / total}, prog_bar=True, batch_size=count
            )
            self._train_window = None

    def stop_if_diverged(self, loss: Tensor) -> None:
        """A NaN or infinite loss ends the run before any checkpoint of it is written."""
        if not torch.isfinite(loss):
            raise UserInputError(
                f"training diverged at step {self.global_step + 1}: the loss is {float(loss)}; lower --model.lr "
                "or set --trainer.gradient_clip_val (checkpoints written before this step are kept as they were)"
            )

    def log_validation(self, metrics: dict[str, Tensor]) -> None:
        """``metrics`` of a validation (``val/loss``, ``val/acc`` and any more), with the best
        ``val/acc`` so far (the subclass's ``val_acc_best``, a ``MaxMetric`` kept in checkpoints)."""
        accuracy = metrics[VAL_ACC]
        if not self.trainer.sanity_checking:  # the best counts real validations only
            self.stop_if_diverged(metrics[VAL_LOSS])
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

    @classmethod
    def load_from_checkpoint(
        cls, checkpoint_path: str | Path, map_location=None, strict: bool = True, **overrides: Any
    ):
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
    def from_checkpoint(cls, checkpoint: dict, path: str | Path, strict: bool = True, **overrides: Any):
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

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        """Where torch's random numbers stand (dropout draws its masks from them), so that a resumed
        run draws the masks the run would have drawn: Lightning keeps no such state itself."""
        checkpoint[RANDOM_STATE] = {"cpu": torch.get_rng_state()}
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            checkpoint[RANDOM_STATE]["cuda"] = torch.cuda.get_rng_state_all()

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        state = checkpoint.get(RANDOM_STATE)
        if state is None:
            return  # written before this was kept: resumed as exactly as a network without dropout
        torch.set_rng_state(state["cpu"])
        if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(state["cuda"])

    def on_train_start(self) -> None:
        scheduler = self.lr_schedulers()
        if self.hparams.schedule == "one_cycle" and scheduler.total_steps != self.trainer.estimated_stepping_batches:
            # Only possible when resuming: the schedule was planned for the original run's length.
            raise UserInputError(
                f"the checkpoint's one-cycle schedule spans {scheduler.total_steps} steps but this run plans "
                f"{self.trainer.estimated_stepping_batches}: resume with the --trainer.max_epochs the run "
                "started with (a one-cycle run cannot be extended)"
            )

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
