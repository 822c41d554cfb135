"""Which checkpoints a run keeps: the best by ``val/acc`` and the latest training state."""

from typing import Literal

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint

from lstm_mnist.training.metric_names import VAL_ACC


class BestCheckpoint(ModelCheckpoint):
    """``best-step=S-val_acc=A.ckpt``: the weights with the highest ``val/acc`` so far.

    Args:
        monitor: the logged scalar that decides which weights are the best.
        mode: ``max`` keeps the highest value of ``monitor``, ``min`` the lowest.
        save_top_k: how many of the best to keep.
    """

    def __init__(self, monitor: str = VAL_ACC, mode: Literal["max", "min"] = "max", save_top_k: int = 1) -> None:
        super().__init__(
            monitor=monitor,
            mode=mode,
            save_top_k=save_top_k,
            filename=f"best-step={{step}}-{monitor.replace('/', '_')}={{{monitor}:.4f}}",
            auto_insert_metric_name=False,
        )

    @property
    def state_key(self) -> str:
        """Where checkpoints keep this callback's state (the best score and path so far): under a plain
        ``ModelCheckpoint``'s key, which this callback was before it had a class, so that runs saved
        then still resume knowing their best."""
        return super().state_key.replace(type(self).__qualname__, ModelCheckpoint.__qualname__, 1)


class LatestCheckpoint(ModelCheckpoint):
    """``last.ckpt``: the latest training state, rewritten after every validation and every epoch.

    ``ModelCheckpoint(monitor=..., save_last=True)`` in Lightning 2.6 rewrites ``last.ckpt`` only
    when the monitored metric improves, so it can lag far behind the run. This callback saves
    regardless of any metric, which is what ``fit --ckpt_path last.ckpt`` needs to resume.
    """

    def __init__(self) -> None:
        super().__init__(save_top_k=0, save_last=True)

    def _save_latest(self, trainer: L.Trainer) -> None:
        if not self._should_skip_saving_checkpoint(trainer):
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._save_latest(trainer)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._save_latest(trainer)
