"""Batches of digit lines: composed afresh for training, composed once for validation and test.

A training batch is made from nothing but its seed, the epoch and its place in the epoch (the
lengths, which digits, how they are varied and set), so the same run makes the same lines again,
and a run resumed mid-epoch makes exactly the batches it would have made: the only state is the
place. Validation and test lines are drawn each from a generator of its own (``FixedLines``).
Each batch is ``(lines [n, 28, widest], widths [n], digits [n, longest], lengths [n])``,
``digits`` padded with 0 beyond each line's ``lengths``.
"""

from collections.abc import Callable, Iterator

import torch
from torch import Tensor

from lstm_mnist.data.line_composition import LineStyle, compose_line, pad_lines

LineBatch = tuple[Tensor, Tensor, Tensor, Tensor]


def draw_line(images: Tensor, labels: Tensor, style: LineStyle, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """``(line [28, width], its digits [length])``: digits drawn from ``images`` (any of them, with
    repetition) and set in a line, as they are (validation and test lines are never varied)."""
    (length,) = style.draw_lengths(1, generator)
    chosen = torch.randint(len(images), (length,), generator=generator)
    return compose_line(images[chosen], style, generator), labels[chosen]


def as_batch(drawn: list[tuple[Tensor, Tensor]]) -> LineBatch:
    """Lines and their digits, padded into one batch."""
    lines, widths = pad_lines([line for line, _ in drawn])
    lengths = torch.tensor([len(digits) for _, digits in drawn])
    spelled = torch.zeros(len(drawn), int(lengths.max()), dtype=torch.long)
    for row, (_, digits) in enumerate(drawn):
        spelled[row, : len(digits)] = digits
    return lines, widths, spelled, lengths


def make_batch(
    images: Tensor,
    labels: Tensor,
    count: int,
    style: LineStyle,
    generator: torch.Generator,
    vary: Callable[[Tensor, torch.Generator], Tensor] | None = None,
) -> LineBatch:
    """``count`` lines drawn from ``generator``: their lengths, then all their digits, varied
    together by ``vary`` (one call a batch: 30% of the batch's time when each line had its own),
    then each line set."""
    lengths = style.draw_lengths(count, generator)
    chosen = torch.randint(len(images), (sum(lengths),), generator=generator)
    digits = images[chosen]
    if vary is not None:
        digits = vary(digits, generator)
    drawn, start = [], 0
    for length in lengths:
        drawn.append(
            (compose_line(digits[start : start + length], style, generator), labels[chosen[start : start + length]])
        )
        start += length
    return as_batch(drawn)


def seeded(*numbers: int) -> torch.Generator:
    """A generator seeded by a tuple of numbers (Python hashes a tuple of ints the same in every
    process and on every machine)."""
    return torch.Generator().manual_seed(hash(numbers) % 2**63)


class FixedLines:
    """``count`` lines in the default style, the same for a seed on any machine and at any batch
    size (line i is drawn from its own generator, seeded by ``seed`` and i): a validation or test
    set that every run is scored on alike. Composed the first time they are read through, then kept;
    a run that reads only some batches (``limit_test_batches``) composes only those."""

    def __init__(self, images: Tensor, labels: Tensor, count: int, seed: int, batch_size: int) -> None:
        self.images, self.labels, self.count, self.seed, self.batch_size = images, labels, count, seed, batch_size
        self._batches: list[LineBatch] = []

    def __len__(self) -> int:
        return -(-self.count // self.batch_size)

    def __iter__(self) -> Iterator[LineBatch]:
        for index in range(len(self)):
            if index == len(self._batches):
                first = index * self.batch_size
                numbers = range(first, min(first + self.batch_size, self.count))
                self._batches.append(
                    as_batch([draw_line(self.images, self.labels, LineStyle(), seeded(self.seed, n)) for n in numbers])
                )
            yield self._batches[index]


class FixedBatches:
    """Batches handed out in order every time (one loader to Lightning, where a list would be many)."""

    def __init__(self, batches) -> None:
        self.batches = batches

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self) -> Iterator:
        return iter(self.batches)


class LineBatches:
    """An epoch of ``lines_per_epoch`` training lines in ``batch_size`` batches, stateful like
    ``TensorBatches`` (``set_epoch``, ``state_dict``). Under DDP rank r makes every
    ``world_size``-th batch of the epoch."""

    batch_sampler = None  # Lightning inspects it beside ``sampler``

    def __init__(
        self,
        images: Tensor,
        labels: Tensor,
        lines_per_epoch: int,
        batch_size: int,
        style: LineStyle,
        seed: int,
        vary: Callable[[Tensor, torch.Generator], Tensor] | None = None,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        self.images, self.labels = images, labels
        self.lines_per_epoch, self.batch_size = lines_per_epoch, batch_size
        self.style, self.seed, self.vary = style, seed, vary
        self.rank, self.world_size = rank, world_size
        self.epoch = 0
        self._position = 0
        self._resume_state: dict | None = None

    @property
    def sampler(self) -> "LineBatches":
        return self

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return -(-self.lines_per_epoch // (self.batch_size * self.world_size))

    def __iter__(self) -> Iterator[LineBatch]:
        start = 0
        if self._resume_state is not None and self._resume_state["epoch"] == self.epoch:
            start = self._resume_state["position"]
        self._resume_state = None
        self._position = start
        for position in range(start, len(self)):
            number = position * self.world_size + self.rank  # the batch's place among all ranks'
            self._position = position + 1
            generator = seeded(self.seed, self.epoch, number)
            yield make_batch(self.images, self.labels, self.batch_size, self.style, generator, self.vary)

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "position": self._position}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self._resume_state = dict(state)
