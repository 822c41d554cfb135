"""Files that a later command reads are written whole or not at all.

Each goes to a temporary file beside its final name, is flushed and fsynced, then renamed over
the old file (a rename within one folder replaces it atomically), and the folder is fsynced so the
rename itself survives a power cut. A process killed at any instant (out of memory, a preempted
node, ``kill -9``) leaves the previous complete file or the new complete file, never half of one;
at worst a stray ``.NAME.*.partial`` file, which nothing reads.

Lightning's own ``TorchCheckpointIO`` writes through fsspec, which on a local disk stages the bytes
in the system's temporary folder and copies them over: not atomic across filesystems, and never
fsynced. ``AtomicCheckpointIO`` is the plugin that replaces it (``trainer.plugins`` in
``default.yaml``); ``training/saved_config.AtomicSaveConfig`` does the same for the run's ``config.yaml``.
"""

import contextlib
import io
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO

from lstm_mnist.errors import UserInputError, behind


def write_atomically(path: str | Path, write: Callable[[IO[bytes]], Any]) -> None:
    """``write(file)`` into a temporary file beside ``path``, then rename it to ``path``. A failure
    to write (a full disk, a folder made read-only, ...) is one line naming the file and the cause."""
    pieces = AtomicFile(path)
    with pieces.failures_told():
        write(pieces.file)
    pieces.commit()


class AtomicFile:
    """A file written in pieces (``predictions.csv``, a batch at a time) that appears whole or not at
    all: the pieces go to a temporary file beside ``path``; ``commit`` renames it over ``path``,
    ``abort`` removes it. A failure to write is one line naming the file and the cause."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.partial = self.path.with_name(f".{self.path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.partial")
        with self.failures_told():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.file = open(self.partial, "xb")  # noqa: SIM115  "x": never someone else's file; the umask applies

    @contextlib.contextmanager
    def failures_told(self):
        """Within the block, any failure removes the temporary file, and an ``OSError`` becomes the
        one-line ``UserInputError``."""
        try:
            yield
        except BaseException as error:
            self.abort()
            cause = os_error_behind(error)
            if cause is not None:
                raise refused_write(self.path, cause) from error
            raise

    def write(self, data: bytes) -> None:
        with self.failures_told():
            self.file.write(data)

    def commit(self) -> None:
        """Flushed, fsynced, renamed over ``path``, and the rename made durable."""
        with self.failures_told():
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            os.replace(self.partial, self.path)
            sync_folder(self.path.parent)

    def abort(self) -> None:
        """Nothing written: the temporary file closed and removed (again: a no-op)."""
        with contextlib.suppress(OSError, AttributeError):
            self.file.close()
        with contextlib.suppress(OSError):
            self.partial.unlink()


def os_error_behind(error: BaseException) -> OSError | None:
    """The ``OSError`` behind ``error``. ``torch.save``'s zip writer meets a full disk as
    ``OSError(ENOSPC)`` (``EFBIG`` past a file-size limit), then its ``__exit__`` raises
    ``RuntimeError: [enforce fail at inline_container.cc] unexpected pos ...``, which is what reaches
    us, with the ``OSError`` as its context."""
    return behind(error, OSError)


def refused_write(path, cause: OSError) -> UserInputError:
    """The one line for a file the disk refused: which file, why, and that the files before it stand."""
    return UserInputError(f"cannot write {path}: {cause.strerror or cause}; the files written before it are intact")


def sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; Windows cannot open a folder to sync it)."""
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class AtomicCheckpointIO(TorchCheckpointIO):
    """Saves every checkpoint (best, ``last.ckpt``, ``interrupted.ckpt``) with ``write_atomically``;
    loads them as Lightning does."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options: Any | None = None) -> None:
        """Serialised in memory first, then written: torch.save's zip writer, writing to the file
        itself, can meet a refused write as a short write and raise a RuntimeError with no OSError
        behind it (seen once under a file-size limit), which would not be told as a full disk. A
        checkpoint here is a few MB at most."""
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} takes no storage_options")
        serialised = io.BytesIO()
        torch.save(checkpoint, serialised)
        pieces = AtomicFile(path)
        pieces.write(serialised.getbuffer())
        pieces.commit()
