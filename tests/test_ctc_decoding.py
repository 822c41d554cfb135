"""CTC's best path: blanks, repeats, and the same answer on the device as in numpy."""

import numpy as np
import pytest
import torch

from lstm_mnist.nets.ctc_decoding import BLANK, best_path, collapse
from lstm_mnist.training.number_reader import best_paths, read_right, spelled

B = BLANK


@pytest.mark.parametrize(
    "path, number",
    [
        ([B, 1, 1, B, 1, B], "11"),  # a blank between equal digits keeps them two
        ([1, 1, 1], "1"),  # a run is one digit
        ([B, B, B], ""),
        ([0, B, 0, 7, 7, B, B, 2], "0072"),  # leading zeros kept
        ([3, 4, 3, 4], "3434"),
        ([], ""),
    ],
)
def test_runs_merge_and_blanks_drop(path, number):
    assert collapse(path) == number


def test_the_probability_is_the_best_paths():
    probabilities = np.array([[0.1] * 10 + [0.0], [0.0] * 10 + [1.0]], dtype=np.float32)
    probabilities[0, 4] = 0.5
    probabilities[0] /= probabilities[0].sum()
    number, probability = best_path(probabilities)
    assert number == "4" and probability == pytest.approx(float(probabilities[0, 4]))


def test_the_batched_decoding_on_the_device_gives_numpys_numbers():
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(64, 30, 11, generator=generator) * 3
    logits[:, :, BLANK] += 2  # blanks as frequent as in a trained reader's scores
    steps = torch.randint(1, 31, (64,), generator=generator)
    symbols, counts = best_paths(logits, steps)
    numbers = spelled(symbols, counts)
    probabilities = logits.softmax(dim=-1).numpy()
    expected = [best_path(probabilities[i, : int(steps[i])])[0] for i in range(64)]
    assert numbers == expected
    assert len(set(numbers)) > 10


def test_read_right_needs_every_digit_and_no_more():
    symbols = torch.tensor([[1, 2, -1, -1], [1, 2, 3, -1], [1, -1, -1, -1], [4, 2, -1, -1]])
    counts = torch.tensor([2, 3, 1, 2])
    digits = torch.tensor([[1, 2, 0], [1, 2, 0], [1, 2, 0], [1, 2, 0]])
    lengths = torch.tensor([2, 2, 2, 2])
    assert read_right(symbols, counts, digits, lengths).tolist() == [True, False, False, False]
