"""What every program's ``main`` runs in: one place that tunes the process and turns the user's
mistakes into one line."""

import contextlib
import sys

from lstm_mnist.adapters.tqdm import drawn_bars
from lstm_mnist.apps.process import tune_process
from lstm_mnist.errors import UserInputError, behind


@contextlib.contextmanager
def program():
    """The process tuned once (process.py); a ``UserInputError`` from the block ends the program with
    one ``error:`` line on stderr, no traceback, and exit status 1, also when a library wrapped it
    in an error of its own (Lightning's ``log_metrics`` turns any failure into a ``ValueError``)."""
    tune_process()
    try:
        yield
    except Exception as error:
        # only through "raise ... from": a bug met while handling the user's error must show as the bug
        told = behind(error, UserInputError, through_handling=False) or lost_process(error)
        if told is None:
            raise
        end_progress_bars()
        print(f"error: {told}", file=sys.stderr)
        sys.exit(1)


def end_progress_bars() -> None:
    """Close the progress bars a failed step left drawn (Lightning closes them only at the end of
    a loop), so that the error starts a line of its own instead of following the bar."""
    bars = drawn_bars()
    for bar in sorted(bars, key=lambda bar: -abs(getattr(bar, "pos", 0))):  # the nested ones, below, first
        with contextlib.suppress(Exception):
            bar.close()


# What gloo says, mid-step, when a process of a distributed run has gone away (its node killed or lost).
LOST_PEER = ("Connection closed by peer", "Connection reset by peer")


def lost_process(error: BaseException) -> str | None:
    """The one line for a distributed run whose other process stopped, or None for another error."""
    cause = next((words for words in LOST_PEER if words in str(error)), None)
    if cause is None:
        return None
    return (
        f"another process of this distributed run stopped ({cause}): the checkpoints written before are whole; "
        "start every node again with fit --ckpt_path .../checkpoints/last.ckpt"
    )
