"""Keep Lightning's chatter off the console, one known line at a time.

A default ``fit`` prints what a user reads: the model summary, the progress bar and the summary
at the end. Lightning adds an advertising tip, facts the run's ``config.yaml`` already holds and a
deprecation warning from its own internals; each is named below and dropped by its exact start,
so that any other message, warning or error still shows.
"""

import contextlib
import logging
import warnings

# Lightning's info lines that tell a user nothing they need to act on.
CHATTER = (
    "💡 Tip: ",  # Lightning's cloud products
    "Seed set to ",  # the seed is in config.yaml
    "GPU available: ",  # the device: the end-of-fit summary names it
    "TPU available: ",
    "HPU available: ",
    "Loading `train_dataloader` to estimate number of stepping batches.",  # the one-cycle schedule asking
    "`Trainer.fit` stopped: `max_epochs=",  # the run ended as planned (other reasons to stop still show)
)
# What Lightning says when it restores a checkpoint: worth reading when a user asked for it
# (test --ckpt_path, resuming), noise when the end of fit scores its own checkpoints.
RESTORING = ("Restoring states from the checkpoint path at ", "Loaded model weights from the checkpoint at ")
# What Lightning warns about while predicting from a checkpoint, none of it the user's concern: the
# checkpoint callbacks' state is not needed to predict, and our prediction writer does not use the
# batch indices that Lightning can read only from a torch DataLoader.
PREDICTING = (
    r"The dirpath has changed from ",
    r"Couldn't infer the batch indices fetched from your dataloader",
)
# The loggers Lightning writes these through.
LOGGERS = ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.seed")


class DropLines(logging.Filter):
    """Drops the log records whose message starts with one of ``starts``."""

    def __init__(self, starts: tuple[str, ...]) -> None:
        super().__init__()
        self.starts = starts

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.starts)


def quiet_lightning() -> None:
    """Drop ``CHATTER`` and one deprecation warning that Lightning's code triggers in PyTorch (idempotent)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, DropLines) and f.starts == CHATTER for f in logger.filters):
            logger.addFilter(DropLines(CHATTER))
    # lightning/pytorch/utilities/_pytree.py uses torch's LeafSpec, deprecated in torch 2.10.
    warnings.filterwarnings(
        "ignore",
        message=r"`isinstance\(treespec, LeafSpec\)` is deprecated",
        category=FutureWarning,
        module=r"lightning\.pytorch\.utilities\._pytree",
    )


@contextlib.contextmanager
def no_restoring_messages():
    """Within the block, Lightning restores checkpoints without saying so."""
    dropper = DropLines(RESTORING)
    logger = logging.getLogger(LOGGERS[0])
    logger.addFilter(dropper)
    try:
        yield
    finally:
        logger.removeFilter(dropper)


@contextlib.contextmanager
def quiet_predicting():
    """Within the block, ``predict`` is as quiet as ``fit``: no restoring messages and none of
    ``PREDICTING``'s warnings."""
    with no_restoring_messages(), warnings.catch_warnings():
        for message in PREDICTING:
            warnings.filterwarnings("ignore", message=message, category=UserWarning)
        yield
