"""Lines of digits: how they are composed (lengths, gaps, seeds) and from which split."""

import itertools

import numpy as np
import pytest
import torch

from helpers.tiny_mnist import write_idx
from lstm_mnist.data.line_batches import LineBatches, make_batch
from lstm_mnist.data.line_composition import LineStyle, compose_line
from lstm_mnist.data.number_lines import TEST_LINES, NumberLinesDataModule
from lstm_mnist.errors import UserInputError


def boxes(widths: list[int], level: float = 1.0) -> torch.Tensor:
    """Digit images holding one box of ink each, ``width`` columns wide, 10 rows high, centred."""
    images = torch.zeros(len(widths), 28, 28)
    for image, width in zip(images, widths):
        left = (28 - width) // 2
        image[9:19, left : left + width] = level
    return images


def ink_runs(line: torch.Tensor) -> list[tuple[int, int]]:
    """``(first, last + 1)`` of each run of columns holding ink."""
    inked = (line.amax(dim=0) > 0.05).tolist() + [False]
    runs, start = [], None
    for column, has_ink in enumerate(inked):
        if has_ink and start is None:
            start = column
        elif not has_ink and start is not None:
            runs.append((start, column))
            start = None
    return runs


EXACT = dict(scale=(1.0, 1.0), jitter=0, margin=(3, 3))


@pytest.mark.parametrize("gap", [0, 4, 7])
def test_digits_are_set_the_drawn_gap_apart_between_the_margins(gap):
    style = LineStyle(gap=(gap, gap), **EXACT)
    line = compose_line(boxes([6, 8, 5]), style, torch.Generator().manual_seed(0))
    assert line.shape == (28, 3 + 6 + gap + 8 + gap + 5 + 3)
    expected = [(3, 9), (9 + gap, 17 + gap), (17 + 2 * gap, 22 + 2 * gap)]
    assert ink_runs(line) == (expected if gap else [(3, 22)])


def test_a_negative_gap_overlaps_neighbours_and_the_brighter_ink_wins():
    style = LineStyle(gap=(-2, -2), **EXACT)
    digits = torch.cat([boxes([6], 0.5), boxes([6], 0.9)])
    line = compose_line(digits, style, torch.Generator().manual_seed(0))
    assert line.shape == (28, 3 + 6 + 6 - 2 + 3)
    assert ink_runs(line) == [(3, 13)]
    assert float(line[12, 7]) == pytest.approx(0.9)  # where the two overlap
    assert float(line[12, 3]) == pytest.approx(0.5)


def test_lengths_gaps_and_heights_stay_in_their_ranges():
    style = LineStyle(lengths=(2, 5), gap=(-2, 6), scale=(0.8, 1.1), jitter=2, margin=(1, 4))
    generator = torch.Generator().manual_seed(3)
    lines, widths, digits, lengths = make_batch(boxes([8] * 40), torch.arange(40) % 10, 200, style, generator)
    assert set(lengths.tolist()) == {2, 3, 4, 5}  # every length is drawn, and no other
    assert lines.shape[1] == 28 and lines.max() <= 1 and lines.min() >= 0
    for line, width, length in zip(lines, widths, lengths):
        inked = (line[:, :width].amax(dim=0) > 0.05).nonzero().flatten()
        spanned = int(inked[-1] - inked[0] + 1)
        # each box 8 columns at 0.8-1.1 (6.4-8.8, with the blur of resampling), gaps -2..6
        assert length * 6 + (length - 1) * -2 <= spanned <= length * 10 + (length - 1) * 6
        assert 1 <= int(inked[0]) <= 4 + 1 and 1 <= int(width - 1 - inked[-1]) <= 4 + 1
        assert (line[:, width:] == 0).all()  # the padding is background
    assert (digits[lengths < digits.shape[1], -1] == 0).all()


def test_the_same_seed_makes_the_same_lines_and_another_seed_others():
    images, labels = torch.rand(50, 28, 28), torch.arange(50) % 10
    first = list(LineBatches(images, labels, 64, 16, LineStyle(), seed=5))
    again = list(LineBatches(images, labels, 64, 16, LineStyle(), seed=5))
    other = list(LineBatches(images, labels, 64, 16, LineStyle(), seed=6))
    assert len(first) == 4
    for a, b in zip(first, again):
        assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not torch.equal(first[0][2], other[0][2])


def test_batches_resume_mid_epoch_with_the_batches_they_would_have_made():
    images, labels = torch.rand(50, 28, 28), torch.arange(50) % 10
    straight = LineBatches(images, labels, 80, 16, LineStyle(), seed=1)
    straight.set_epoch(2)
    expected = list(straight)
    stopped = LineBatches(images, labels, 80, 16, LineStyle(), seed=1)
    stopped.set_epoch(2)
    iterator = iter(stopped)
    next(iterator), next(iterator)
    state = stopped.state_dict()
    resumed = LineBatches(images, labels, 80, 16, LineStyle(), seed=1)
    resumed.load_state_dict(state)
    resumed.set_epoch(2)
    rest = list(resumed)
    assert state == {"epoch": 2, "position": 2} and len(rest) == 3
    for a, b in zip(expected[2:], rest):
        assert all(torch.equal(x, y) for x, y in zip(a, b))


@pytest.fixture(scope="module")
def two_level_data(tmp_path_factory):
    """MNIST-format files whose training images are boxes of grey level 100 and test images of 250:
    a line's brightest pixel says which file its digits came from."""
    raw = tmp_path_factory.mktemp("two_levels") / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, level, count in (("train", 100, 300), ("t10k", 250, 100)):
        images = np.zeros((count, 28, 28), dtype=np.uint8)
        images[:, 8:20, 10:18] = level
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", (np.arange(count) % 10).astype(np.uint8))
    return raw.parent.parent


def test_training_and_validation_lines_never_hold_a_test_digit(two_level_data):
    data = NumberLinesDataModule(data_dir=str(two_level_data), val_size=50, val_lines=40, lines_per_epoch=64)
    data.setup("fit")
    data.setup("test")
    training = [batch[0].max() for batch in data.train_dataloader()]
    validation = [batch[0].max() for batch in data.val_dataloader()]
    test = [batch[0].max() for batch in itertools.islice(data.test_dataloader(), 3)]  # composed as read
    assert max(training + validation) <= 100 / 255 + 1e-6
    assert min(test) >= 0.9
    # validation lines are made of the validation split's digits, training lines of the rest
    assert data.train_dataloader().images is data.splits["train"][0]
    assert len(data.splits["val"][0]) == 50 and len(data.splits["train"][0]) == 250
    assert sum(len(batch[0]) for batch in data.val_dataloader()) == 40
    assert len(data.test_dataloader()) * data.eval_batch_size == TEST_LINES


def unpadded(loader) -> list[tuple[torch.Tensor, list[int]]]:
    """Each line of a loader as it was composed (its own width) with its digits."""
    return [
        (line[:, :width], digits[:length].tolist())
        for lines, widths, spelled, lengths in loader
        for line, width, digits, length in zip(lines, widths, spelled, lengths)
    ]


@pytest.mark.slow  # 10,000 lines composed twice
def test_the_test_lines_are_the_same_for_every_run_and_batch_size(two_level_data):
    first = NumberLinesDataModule(data_dir=str(two_level_data), split_seed=1, eval_batch_size=500)
    second = NumberLinesDataModule(data_dir=str(two_level_data), split_seed=2, eval_batch_size=300)
    for data in (first, second):
        data.setup("test")
    lines = unpadded(first.test_dataloader())
    lengths = torch.tensor([len(digits) for _, digits in lines])
    assert torch.bincount(lengths).tolist()[1:] == pytest.approx([TEST_LINES / 8] * 8, rel=0.1)
    for (line, digits), (again, digits_again) in zip(lines, unpadded(second.test_dataloader()), strict=True):
        assert digits == digits_again and torch.equal(line, again)


@pytest.mark.parametrize(
    "settings, expect",
    [
        ({"style": LineStyle(lengths=(0, 3))}, "--data.style.lengths must start at 1"),
        ({"style": LineStyle(gap=(4, 2))}, "--data.style.gap must be [low, high] with low <= high"),
        ({"lines_per_epoch": 0}, "--data.lines_per_epoch must be at least 1"),
    ],
)
def test_settings_that_cannot_be_are_refused_by_name(settings, expect, two_level_data):
    with pytest.raises(UserInputError, match=expect.replace("[", r"\[")):
        NumberLinesDataModule(data_dir=str(two_level_data), **settings)
