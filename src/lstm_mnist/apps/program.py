"""What every program's ``main`` runs in: one place that tunes the process and turns the user's
mistakes into one line."""

import contextlib
import sys

from lstm_mnist.apps.process import tune_process
from lstm_mnist.errors import UserInputError


@contextlib.contextmanager
def program():
    """The process tuned once (process.py); a ``UserInputError`` from the block ends the program with
    one ``error:`` line on stderr, no traceback, and exit status 1."""
    tune_process()
    try:
        yield
    except UserInputError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
