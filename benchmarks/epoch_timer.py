"""A callback that records the wall time of every training epoch, validation included, and a
helper that runs ``train.py fit`` in this process with it."""

import tempfile
import time

import lightning as L
import torch

from lstm_mnist.cli import main as cli_main

EPOCH_SECONDS: list[float] = []


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


def fit_epoch_seconds(fit_args: list[str]) -> list[float]:
    """``train.py fit`` with these arguments, in a temporary run folder; each epoch's seconds."""
    EPOCH_SECONDS.clear()
    with tempfile.TemporaryDirectory() as root:
        cli_main(["fit", *fit_args, "--trainer.default_root_dir", root, "--trainer.callbacks+=epoch_timer.EpochTimer"])
    return list(EPOCH_SECONDS)
