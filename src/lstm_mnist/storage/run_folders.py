"""Every run gets a folder of its own, even when several start at once in one place.

Lightning's TensorBoard logger numbers a new run by listing ``lightning_logs/`` and taking the
next free ``version_N``: runs started together (a sweep, a batch scheduler, a user in two
terminals) list the same folder, take the same number and write into each other's run. Here the
number is claimed by creating its folder, which exactly one process can do.
"""

from pathlib import Path

from fsspec.implementations.local import LocalFileSystem
from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.utilities import rank_zero_only

from lstm_mnist.adapters.lightning import ClaimedVersion, logger_filesystem, tensorboard_logger_started
from lstm_mnist.storage.event_files import tell_refused_writes


class ExclusiveTensorBoardLogger(ClaimedVersion, TensorBoardLogger):
    """Lightning's TensorBoard logger, with ``version_N`` claimed by ``mkdir``, and a refused write
    of its events file told in one line (``event_files.py``)."""

    @property
    def experiment(self):
        fresh = not tensorboard_logger_started(self)
        writer = super().experiment
        if fresh and rank_zero_only.rank == 0:
            tell_refused_writes(writer)
        return writer

    def claim_version(self, version: int) -> int:
        """The first free number from ``version`` (Lightning's, from listing the folder), claimed."""
        if rank_zero_only.rank != 0 or not isinstance(logger_filesystem(self), LocalFileSystem):
            # Other DDP ranks use rank 0's folder (Lightning broadcasts it) and must claim none;
            # remote storage keeps Lightning's numbering.
            return version
        runs = Path(self.root_dir)  # <save_dir>/lightning_logs
        runs.mkdir(parents=True, exist_ok=True)
        while True:
            try:
                (runs / f"version_{version}").mkdir()
                return version
            except FileExistsError:
                version += 1
