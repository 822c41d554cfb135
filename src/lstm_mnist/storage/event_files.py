"""TensorBoard's events file meets a full disk with one line, like every other file of a run.

TensorBoard writes events from a thread of its own; a write the disk refuses stops that thread, and
the ``OSError`` surfaces later, in whatever call of the run next logs, draws or flushes, as a
traceback that names no file. The events file cannot be written atomically (TensorBoard appends to it
while the run goes on, and reads it while it grows), but every record before the refused one is
whole: TensorBoard frames each record with its length and checksums, and reads up to the last whole
one.
"""

import threading

from lstm_mnist.adapters.tensorboard import events_file
from lstm_mnist.storage.atomic import os_error_behind, refused_write


def tell_refused_writes(writer) -> None:
    """Make the ``OSError`` of a refused write, wherever the run meets it through ``writer`` (a
    ``SummaryWriter``), a ``UserInputError`` naming the events file. Once told, the writer stays
    quiet: Lightning flushes and closes the logger while it stops the run, and a second report of
    the same failure would replace the first."""
    events, path, writer_thread = events_file(writer)
    told = []

    def guarded(method):
        def call(*args, **kwargs):
            if told:
                return None
            try:
                return method(*args, **kwargs)
            except Exception as error:
                cause = os_error_behind(error)
                if cause is None:
                    raise
                told.append(cause)
                raise refused_write(path, cause) from error

        return call

    for name in ("add_event", "flush", "close"):
        setattr(events, name, guarded(getattr(events, name)))
    quiet_writer_threads(writer_thread)


def quiet_writer_threads(thread_class: type) -> None:
    """Python prints a traceback for the writer thread as it stops on the refused write; the run
    tells the failure itself, in one line, when it meets it. Other threads' failures print as before."""
    previous = threading.excepthook
    if getattr(previous, "quiet_for", None) is thread_class:
        return

    def hook(args) -> None:
        if isinstance(args.thread, thread_class) and os_error_behind(args.exc_value) is not None:
            return
        previous(args)

    hook.quiet_for = thread_class
    threading.excepthook = hook
