"""Process-wide costs that a program pays for nothing, removed once at its start (``tune_process``).

Measured on a 2-core CPU with ``configs/seed.yaml`` (3 epochs, 3,540 steps);
``benchmarks/overheads.py`` measures each, BENCHMARKS.md has the numbers.
"""

import contextlib
import ctypes
import gc
import os

from lstm_mnist.apps.quiet import quiet_lightning


@contextlib.contextmanager
def collector_paused():
    """No garbage collection while the programs' imports run (``lstm_mnist/apps/__init__.py``).

    torch, Lightning and what they import create some 420,000 objects that live as long as the
    process; the six full collections Python starts while they pile up find almost nothing to free and
    cost 0.2-0.3 s of every start. The collector is switched back on (if it was on) afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def freeze_imported_objects() -> None:
    """Move every object alive now (the imports' 420,000, see :func:`collector_paused`) out of
    the garbage collector's reach, once per process, at the start of a command-line run.

    They live until the process ends, yet a full collection walks all of them, and Python makes
    one more at exit: 0.8 s at the end of every run. ``gc.freeze`` (Python's documented remedy)
    leaves them out; objects made later are collected as before. The imports leave about 20
    unreachable objects behind, not worth the 0.2 s a collection costs first. Only the first call
    freezes: a later one, in a process that ran before (a test, a sweep's next trial), would also
    freeze whatever garbage those runs left and never free it.
    """
    if gc.get_freeze_count() == 0:
        gc.freeze()


def skip_missing_nvml_probe() -> None:
    """On a machine without NVIDIA's driver, stop asking for it at every optimizer step.

    Lightning sets ``PYTORCH_NVML_BASED_CUDA_CHECK=1`` on import so that asking whether CUDA is
    there does not initialise it. torch's optimizers ask at every step (a check for CUDA-graph
    capture), and with that setting each question first tries to load ``libnvidia-ml.so.1``;
    where the library is missing the load fails and torch asks the CUDA runtime after all,
    which is what it does without the setting. The failed load costs 0.13 ms a step (a fused
    Adam step of the seed's LSTM takes 0.05-0.08 ms), 0.5 s of a seed run. Where the library
    loads, nothing changes. Called by ``tune_process`` at the start of every program, after
    Lightning's import has set the variable.
    """
    if os.environ.get("PYTORCH_NVML_BASED_CUDA_CHECK") != "1":
        return
    try:
        ctypes.CDLL("libnvidia-ml.so.1")  # the library torch's check loads
    except OSError:
        os.environ["PYTORCH_NVML_BASED_CUDA_CHECK"] = "0"


def tune_process() -> None:
    """What every program's ``main`` calls first: the settings above and Lightning's chatter off
    (quiet.py). Importing the package changes none of them; each call after the first changes nothing."""
    skip_missing_nvml_probe()
    freeze_imported_objects()
    quiet_lightning()
