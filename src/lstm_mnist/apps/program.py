"""What every program's ``main`` runs in: one place that tunes the process and turns the user's
mistakes into one line."""

import contextlib
import sys

from lstm_mnist.apps.process import tune_process
from lstm_mnist.errors import UserInputError


@contextlib.contextmanager
def program():
    """The process tuned once (process.py); a ``UserInputError`` from the block ends the program with
    one ``error:`` line on stderr, no traceback, and exit status 1, also when a library wrapped it
    in an error of its own (Lightning's ``log_metrics`` turns any failure into a ``ValueError``)."""
    tune_process()
    try:
        yield
    except Exception as error:
        told = user_error_behind(error)
        if told is None:
            raise
        print(f"error: {told}", file=sys.stderr)
        sys.exit(1)


def user_error_behind(error: BaseException) -> UserInputError | None:
    """``error`` if it is a ``UserInputError``, or the one it was raised from."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, UserInputError):
            return error
        seen.add(id(error))
        error = error.__cause__
    return None
