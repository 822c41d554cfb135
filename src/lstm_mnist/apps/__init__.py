"""The four programs: ``lstm-mnist``/``train.py`` (cli), ``sweep.py``, ``demo.py`` and ``export.py``.

Each needs the libraries below; they are imported here once, with the garbage collector paused
(process.py: 0.2-0.3 s of every start) and switched back on afterwards.
"""

from lstm_mnist.apps.process import collector_paused

with collector_paused():
    import lightning.pytorch.cli  # noqa: F401  (torch, Lightning, torchmetrics, jsonargparse)
    import PIL.Image  # noqa: F401  (users' pictures)
    import torch.utils.tensorboard.summary  # noqa: F401  (the HPARAMS entry)
    import torchvision.datasets.mnist  # noqa: F401  (MNIST's files)
