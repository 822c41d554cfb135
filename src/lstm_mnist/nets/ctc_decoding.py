"""From a number reader's scores at every step to the number: CTC's best path.

At each step take the most likely symbol; then merge each run of one digit into one, and drop the
blanks. A blank between two equal digits is what keeps them two ("1", blank, "1" is 11; "1", "1"
is 1). The number's probability is that of the path: the product of each step's chosen
probability. Numpy only, so that ``lstm-mnist read`` decodes without torch.
"""

import numpy as np

BLANK = 10  # the scores' last class: no new digit at this step (digits keep their own values 0-9)


def best_path(probabilities: np.ndarray) -> tuple[str, float]:
    """``(number, probability)`` of ``[steps, 11]`` probabilities of one line (softmax taken)."""
    choice = probabilities.argmax(axis=-1)
    probability = float(np.prod(probabilities[np.arange(len(choice)), choice], dtype=np.float64))
    return collapse(choice.tolist()), probability


def collapse(symbols: list[int]) -> str:
    """The digits a path of symbols spells: runs merged, blanks dropped."""
    digits, previous = [], BLANK
    for symbol in symbols:
        if symbol != previous and symbol != BLANK:
            digits.append(str(symbol))
        previous = symbol
    return "".join(digits)


def beam_search(probabilities: np.ndarray, width: int = 8, floor: float = 1e-4) -> tuple[str, float]:
    """``(number, probability)`` of the likeliest number, summed over every path that spells it,
    among the ``width`` best kept at each step (CTC's prefix beam search, with no language model);
    symbols below ``floor`` at a step are not tried. Slower than ``best_path`` by the beam's width;
    where the best path's number is not the likeliest, it finds the one that is (two steps of 0.4
    for "1" and 0.6 for the blank: the best path is blank, blank, "" at 0.36; "1" has 0.64)."""
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (1.0, 0.0)}  # prefix -> (ends in blank, in a digit)
    for step in probabilities.astype(np.float64):
        grown: dict[tuple[int, ...], list[float]] = {}
        add = _adder(grown)
        tried = [symbol for symbol in range(BLANK) if step[symbol] >= floor]
        for prefix, (blank, digit) in beams.items():
            add(prefix, blank=(blank + digit) * step[BLANK])
            for symbol in tried:
                if prefix and prefix[-1] == symbol:
                    add(prefix, digit=digit * step[symbol])  # the same digit, still
                    add(prefix + (symbol,), digit=blank * step[symbol])  # a blank between: a new one
                else:
                    add(prefix + (symbol,), digit=(blank + digit) * step[symbol])
        beams = dict(sorted(grown.items(), key=lambda item: -sum(item[1]))[:width])
    prefix, (blank, digit) = max(beams.items(), key=lambda item: sum(item[1]))
    return "".join(map(str, prefix)), blank + digit


def _adder(grown: dict):
    """``add(prefix, blank=p, digit=p)``: adds to a prefix's probabilities of ending in a blank and in
    a digit, in ``grown``."""

    def add(prefix: tuple[int, ...], blank: float = 0.0, digit: float = 0.0) -> None:
        entry = grown.setdefault(prefix, [0.0, 0.0])
        entry[0] += blank
        entry[1] += digit

    return add
