"""CTC's best path: blanks, repeats, and the same answer on the device as in numpy."""

import numpy as np
import pytest
import torch

from lstm_mnist.nets.ctc_decoding import BLANK, beam_search, best_path, collapse
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


def test_beam_search_finds_the_number_the_best_path_misses():
    probabilities = np.zeros((2, 11))
    probabilities[:, 1], probabilities[:, B] = 0.4, 0.6
    assert best_path(probabilities) == ("", pytest.approx(0.36))
    assert beam_search(probabilities) == ("1", pytest.approx(0.64))


def number_probability(probabilities: np.ndarray, number: str) -> float:
    """What CTC's loss says the number's probability is (summed over every path that spells it)."""
    log_probabilities = torch.from_numpy(probabilities).log().unsqueeze(1)  # [steps, 1, 11]
    target = torch.tensor([[int(d) for d in number]]) if number else torch.zeros(1, 0, dtype=torch.long)
    loss = torch.nn.functional.ctc_loss(
        log_probabilities, target, [len(probabilities)], [len(number)], blank=B, reduction="sum"
    )
    return float(torch.exp(-loss))


def test_beam_search_finds_numbers_at_least_as_likely_as_the_best_paths():
    generator = torch.Generator().manual_seed(1)
    logits = torch.randn(20, 25, 11, generator=generator, dtype=torch.float64) * 3
    logits[:, :, B] += 2
    differed = 0
    for probabilities in logits.softmax(dim=-1).numpy():
        number, probability = beam_search(probabilities, width=16)
        greedy = best_path(probabilities)[0]
        # its probability is the number's over the paths the beam kept: at most CTC's sum over all
        exact = number_probability(probabilities, number)
        assert 0.5 * exact <= probability <= exact * (1 + 1e-6)
        assert exact >= number_probability(probabilities, greedy) * (1 - 1e-9)
        differed += number != greedy
    assert differed  # on scores this unsure the two differ
