"""The TensorBoard writer that callbacks draw pictures and the HPARAMS entry with."""

import lightning as L
from lightning.pytorch.loggers import TensorBoardLogger
from torch.utils.tensorboard import SummaryWriter


def tensorboard_writer(trainer: L.Trainer) -> SummaryWriter | None:
    """The run's TensorBoard writer on rank 0 (which alone writes), or None: another rank, another
    logger, or no logger (as in the end-of-fit test of ``last.ckpt``)."""
    logger = trainer.logger
    return logger.experiment if isinstance(logger, TensorBoardLogger) and trainer.is_global_zero else None
