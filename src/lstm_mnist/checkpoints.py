"""Which checkpoints a run keeps: the best validation accuracy, and the latest state."""

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint


def best_checkpoint() -> ModelCheckpoint:
    """``best-step=S-val_acc=A.ckpt``: the weights with the highest ``val/acc`` so far."""
    return ModelCheckpoint(
        monitor="val/acc",
        mode="max",
        save_top_k=1,
        filename="best-step={step}-val_acc={val/acc:.4f}",
        auto_insert_metric_name=False,
    )


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
