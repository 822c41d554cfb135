"""A callback that records the wall time of every training epoch, validation included."""

import time

import lightning as L
import torch

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
