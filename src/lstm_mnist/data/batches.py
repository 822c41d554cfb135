"""Batches cut from tensors that already sit in memory, one indexing per batch.

MNIST as uint8 is 47 MB, so the whole set lives in one tensor (on the GPU when there is
one). Cutting a batch is then a single ``tensor[index]``; a DataLoader would instead look
up 50 items, one by one, and collate them, which costs more than the LSTM step on a CPU.
"""

from collections.abc import Iterator

import torch
from torch import Tensor


class TensorBatches:
    """An iterable of ``(images, labels)`` batches over in-memory tensors.

    * The order of each epoch is a seeded permutation of ``seed + epoch``: the same on any
      device, and the same again when a run is resumed.
    * Lightning calls ``sampler.set_epoch`` before each epoch; ``state_dict()`` and
      ``load_state_dict()`` let a run resumed mid-epoch skip exactly the batches it already
      trained on (``MNISTDataModule`` keeps them in its checkpoint state).
    * Under DDP each rank takes every ``world_size``-th sample of the same permutation
      (padded by repetition to equal length, as torch's DistributedSampler does).
    """

    def __init__(
        self,
        tensors: tuple[Tensor, ...],
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.tensors = tensors
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.epoch = 0
        self._position = 0  # batches handed out in the current epoch
        self._resume_state: dict | None = None

    batch_sampler = None  # Lightning inspects it beside ``sampler``

    @property
    def sampler(self) -> "TensorBatches":
        """Lightning looks for ``loader.sampler.set_epoch``; this loader is its own sampler."""
        return self

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _samples_per_rank(self) -> int:
        return -(-len(self.tensors[0]) // self.world_size)

    def __len__(self) -> int:
        return -(-self._samples_per_rank() // self.batch_size)

    def _order(self) -> Tensor:
        count = len(self.tensors[0])
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed + self.epoch)
            order = torch.randperm(count, generator=generator)
        else:
            order = torch.arange(count)
        if self.world_size > 1:
            padded = self._samples_per_rank() * self.world_size
            order = torch.cat([order, order[: padded - count]])[self.rank :: self.world_size]
        # One copy per epoch; every batch index is then cut on the data's own device.
        return order.to(self.tensors[0].device)

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        start = 0
        if self._resume_state is not None and self._resume_state["epoch"] == self.epoch:
            start = self._resume_state["position"]
        self._resume_state = None
        order = self._order()
        self._position = start
        for position in range(start, len(self)):
            index = order[position * self.batch_size : (position + 1) * self.batch_size]
            self._position = position + 1
            yield tuple(tensor[index] for tensor in self.tensors)

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "position": self._position}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self._resume_state = dict(state)
