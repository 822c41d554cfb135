"""Waiting in a test for something another process or thread does: a file appearing, a trial starting."""

import time


def wait_until(condition, seconds: float, every: float = 0.02):
    """``condition()`` as soon as it is true, checked every ``every`` seconds; after ``seconds``, its
    last value, false, for the test's own assertion (or its next step) to meet."""
    deadline = time.monotonic() + seconds
    while not (met := condition()) and time.monotonic() < deadline:
        time.sleep(every)
    return met
