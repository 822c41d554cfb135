"""Lines of digits made from single digit images: what a number reader learns from.

A line is 28 pixels high and as wide as its digits: each digit's ink is cut out of its 28x28 image,
scaled, moved up or down, and set beside the previous one with a gap that may be negative (the
strokes touch or overlap, as handwritten digits do; where ink meets ink the brighter pixel wins).
All draws come from the generator given, so the same seed makes the same lines, on any machine.
"""

from dataclasses import dataclass

import torch
from torch import Tensor
from torch.nn import functional as F

from lstm_mnist.data.mnist_format import MNIST
from lstm_mnist.errors import UserInputError

LINE_HEIGHT = MNIST.side  # a line is read column by column, each column one of MNIST's 28 rows high
INK = 0.05  # a column or row with a pixel above this holds ink


@dataclass
class LineStyle:
    """How the digits of a line are set; each digit draws its own within these ranges.

    Args:
        lengths: the fewest and most digits of a line (each length as likely as any other).
        gap: the narrowest and widest space between two digits' ink, in pixels; below 0 they
            overlap by that much (-2: strokes of neighbours cross).
        scale: the smallest and largest size of a digit, as a factor of its size in MNIST.
        jitter: the most pixels a digit is moved up or down from the line's middle.
        margin: the narrowest and widest space before the first digit and after the last, in pixels.
    """

    lengths: tuple[int, int] = (1, 8)
    gap: tuple[int, int] = (-2, 6)
    scale: tuple[float, float] = (0.85, 1.1)
    jitter: int = 2
    margin: tuple[int, int] = (2, 6)

    def check(self, flag: str = "--data.style") -> None:
        """A ``UserInputError`` naming the first setting that cannot be."""
        for name, (low, high) in (("lengths", self.lengths), ("gap", self.gap), ("margin", self.margin)):
            if low > high:
                raise UserInputError(f"{flag}.{name} must be [low, high] with low <= high, got {[low, high]}")
        if self.lengths[0] < 1:
            raise UserInputError(f"{flag}.lengths must start at 1 or more digits, got {list(self.lengths)}")
        if not 0 < self.scale[0] <= self.scale[1] <= 1.3:
            raise UserInputError(f"{flag}.scale must be 0 < low <= high <= 1.3, got {list(self.scale)}")
        if self.margin[0] < 0 or self.jitter < 0:
            raise UserInputError(f"{flag}.margin and {flag}.jitter must be at least 0")

    def draw_lengths(self, count: int, generator: torch.Generator) -> list[int]:
        """How many digits each of ``count`` lines holds."""
        low, high = self.lengths
        return torch.randint(low, high + 1, (count,), generator=generator).tolist()


def ink_boxes(images: Tensor) -> list[tuple[int, int, int, int]]:
    """``(top, bottom, left, right)`` (ends exclusive) of the ink of each ``[28, 28]`` image of
    ``images [n, 28, 28]``; the middle pixel of an empty one. One pass over the batch: per image,
    the four small reductions cost more than the rest of setting a digit."""
    inked = images > INK
    rows, columns = inked.any(dim=2), inked.any(dim=1)  # [n, 28] each
    side = images.shape[-1]
    first_row, last_row = rows.int().argmax(dim=1), side - 1 - rows.flip(1).int().argmax(dim=1)
    first_column, last_column = columns.int().argmax(dim=1), side - 1 - columns.flip(1).int().argmax(dim=1)
    boxes = torch.stack([first_row, last_row + 1, first_column, last_column + 1], dim=1).tolist()
    middle = MNIST.side // 2
    return [
        box if any_ink else (middle, middle + 1, middle, middle + 1)
        for box, any_ink in zip(boxes, rows.any(1).tolist())
    ]


def compose_line(digits: Tensor, style: LineStyle, generator: torch.Generator) -> Tensor:
    """One line ``[28, width]`` in [0, 1] of the ``[n, 28, 28]`` digit images, left to right."""
    count = len(digits)
    scales = torch.empty(count).uniform_(*style.scale, generator=generator).tolist()
    shifts = torch.randint(-style.jitter, style.jitter + 1, (count,), generator=generator).tolist()
    gaps = torch.randint(style.gap[0], style.gap[1] + 1, (count,), generator=generator).tolist()
    margins = torch.randint(style.margin[0], style.margin[1] + 1, (2,), generator=generator).tolist()
    pieces, lefts = [], []
    right_end = margins[0]
    for index, (top, bottom, left, right) in enumerate(ink_boxes(digits)):
        ink = digits[index, top:bottom, left:right]
        height = min(LINE_HEIGHT, max(1, round(ink.shape[0] * scales[index])))
        width = max(1, round(ink.shape[1] * scales[index]))
        ink = F.interpolate(ink[None, None], size=(height, width), mode="bilinear", antialias=True, align_corners=False)
        # Where MNIST put the ink's middle, moved by the digit's own jitter, kept inside the line.
        middle = (top + bottom) / 2 + shifts[index]
        row = int(min(max(round(middle - height / 2), 0), LINE_HEIGHT - height))
        start = right_end + (gaps[index] if index else 0)
        start = max(start, 0)
        pieces.append((ink[0, 0].clamp(0, 1), row))
        lefts.append(start)
        right_end = max(right_end, start + width)
    line = digits.new_zeros(LINE_HEIGHT, right_end + margins[1])
    for (ink, row), left in zip(pieces, lefts):
        window = line[row : row + ink.shape[0], left : left + ink.shape[1]]
        torch.maximum(window, ink, out=window)
    return line


def pad_lines(lines: list[Tensor]) -> tuple[Tensor, Tensor]:
    """``(lines [n, 28, widest], widths [n])``: lines of different widths in one batch, each padded
    on the right with background."""
    widths = torch.tensor([line.shape[1] for line in lines])
    batch = lines[0].new_zeros(len(lines), LINE_HEIGHT, int(widths.max()))
    for index, line in enumerate(lines):
        batch[index, :, : line.shape[1]] = line
    return batch, widths
