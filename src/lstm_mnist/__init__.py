"""An LSTM that reads MNIST digits row by row, trained with PyTorch Lightning."""

from lstm_mnist.overheads import collector_paused, skip_missing_nvml_probe

with collector_paused():  # torch and Lightning come in here
    from lstm_mnist.data import MNISTDataModule
    from lstm_mnist.lit_module import LitLSTMClassifier
    from lstm_mnist.model import LSTMClassifier
skip_missing_nvml_probe()  # Lightning's import has just asked for the probe

__all__ = ["LSTMClassifier", "LitLSTMClassifier", "MNISTDataModule"]
