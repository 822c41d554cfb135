"""How far a read number is from the true one: the fewest digits left out, added or misread that
turn one into the other (Levenshtein's distance), and which digits were misread as which.

The distance summed over lines, divided by the digits of the truth, is the character error rate
(what torchmetrics' ``CharErrorRate`` gives during training); the misreadings are what a user
with labelled pictures wants to know next: which digits to write more clearly, or to train on.
"""

from collections import Counter


def edits(truth: str, read: str) -> tuple[int, list[tuple[str, str]]]:
    """``(distance, [(true digit, read as), ...])``: the edit distance and the substitutions of one
    alignment that achieves it."""
    rows, columns = len(truth) + 1, len(read) + 1
    cost = [[0] * columns for _ in range(rows)]
    for i in range(rows):
        cost[i][0] = i
    for j in range(columns):
        cost[0][j] = j
    for i in range(1, rows):
        for j in range(1, columns):
            cost[i][j] = min(
                cost[i - 1][j] + 1,  # a digit of the truth left out
                cost[i][j - 1] + 1,  # a digit added
                cost[i - 1][j - 1] + (truth[i - 1] != read[j - 1]),  # read, right or wrong
            )
    substitutions, i, j = [], len(truth), len(read)
    while i and j:
        if cost[i][j] == cost[i - 1][j - 1] + (truth[i - 1] != read[j - 1]):
            if truth[i - 1] != read[j - 1]:
                substitutions.append((truth[i - 1], read[j - 1]))
            i, j = i - 1, j - 1
        elif cost[i][j] == cost[i - 1][j] + 1:
            i -= 1
        else:
            j -= 1
    return cost[-1][-1], substitutions[::-1]


class NumberTally:
    """Lines read against their numbers: whole numbers right, edits, digits, misreadings."""

    def __init__(self) -> None:
        self.lines = self.right = self.errors = self.digits = 0
        self.misread: Counter[tuple[str, str]] = Counter()

    def add(self, truth: str, read: str) -> int:
        """Count one line; its edit distance."""
        distance, substitutions = edits(truth, read)
        self.lines += 1
        self.right += truth == read
        self.errors += distance
        self.digits += len(truth)
        self.misread.update(substitutions)
        return distance

    @property
    def accuracy(self) -> float:
        return self.right / max(self.lines, 1)

    @property
    def character_error_rate(self) -> float:
        return self.errors / max(self.digits, 1)
