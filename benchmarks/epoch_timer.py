"""Callbacks that record the wall time of every training epoch (validation included) or step, and
a helper that runs ``train.py fit`` in this process with the first."""

import tempfile
import time

import lightning as L
import torch

from lstm_mnist.apps.cli import main as cli_main

EPOCH_SECONDS: list[float] = []
STEP_ENDS: list[float] = []


class EpochTimer(L.Callback):
    """Appends each epoch's seconds to ``EPOCH_SECONDS`` (waiting for the GPU at both ends)."""

    def on_train_epoch_start(self, trainer, pl_module):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        self._start = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        EPOCH_SECONDS.append(time.perf_counter() - self._start)


class StepTimer(L.Callback):
    """Appends the time at the end of every training step to ``STEP_ENDS``."""

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        STEP_ENDS.append(time.perf_counter())


def fit_epoch_seconds(fit_args: list[str]) -> list[float]:
    """``train.py fit`` with these arguments, in a temporary run folder; each epoch's seconds."""
    EPOCH_SECONDS.clear()
    with tempfile.TemporaryDirectory() as root:
        cli_main(["fit", *fit_args, "--trainer.default_root_dir", root, "--trainer.callbacks+=epoch_timer.EpochTimer"])
    return list(EPOCH_SECONDS)
