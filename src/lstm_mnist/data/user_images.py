"""Where the reading of one picture was before it was named for what it holds:
``data/picture_reading.py``. Importing from here still works for one release, with a warning."""

from lstm_mnist.moved_names import moved_name


def __getattr__(name: str):
    return moved_name(__name__, name)
