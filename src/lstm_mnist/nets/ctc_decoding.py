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
