"""Where the LightningModule was before it was named for its task: ``training/digit_classifier.py``.
Importing ``LitLSTMClassifier`` from here still works for one release, with a warning."""

from lstm_mnist.moved_names import moved_name


def __getattr__(name: str):
    return moved_name(__name__, name)
