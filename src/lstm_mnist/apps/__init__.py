"""The four programs: ``lstm-mnist``/``train.py`` (cli), ``sweep.py``, ``demo.py`` and ``export.py``.

Each needs torch and Lightning; they are imported here once, with the garbage collector paused
(process.py: 0.2-0.3 s of every start) and switched back on afterwards.
"""

from lstm_mnist.apps.process import collector_paused

with collector_paused():
    import lightning.pytorch  # noqa: F401
