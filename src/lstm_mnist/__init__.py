"""An LSTM that reads MNIST digits row by row, trained with PyTorch Lightning."""

from lstm_mnist.overheads import collector_paused

with collector_paused():  # torch and Lightning come in here
    from lstm_mnist.data import MNISTDataModule
    from lstm_mnist.lit_module import LitLSTMClassifier
    from lstm_mnist.model import LSTMClassifier

__all__ = ["LSTMClassifier", "LitLSTMClassifier", "MNISTDataModule"]
