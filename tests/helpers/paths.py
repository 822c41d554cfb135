"""Where the tests find the project and the real MNIST."""

import os
from pathlib import Path

import pytest

from lstm_mnist.data.idx_files import DATA_DIR_VARIABLE, missing_files

ROOT = Path(__file__).resolve().parents[2]
REAL_DATA_DIR = os.environ.get(DATA_DIR_VARIABLE)
# Tests on the real MNIST: marked slow (``pytest -m "not slow"`` leaves them out of a quick run),
# and skipped, with the reason, where the data is not there. CI has the data and runs them.
real_mnist = [
    pytest.mark.slow,
    pytest.mark.real_mnist,
    pytest.mark.skipif(
        not REAL_DATA_DIR or bool(missing_files(REAL_DATA_DIR)),
        reason="real MNIST not available: set LSTM_MNIST_DATA_DIR to a folder holding MNIST/raw/ (.ci/run does)",
    ),
]
