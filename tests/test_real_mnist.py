"""One run on the real MNIST: the default recipe must learn the digits in one epoch."""

import os
from pathlib import Path

import pytest
from conftest import read_scalars, run_cli

from lstm_mnist.data import missing_files

REAL_DATA = os.environ.get("LSTM_MNIST_DATA_DIR")


@pytest.mark.skipif(
    not REAL_DATA or bool(missing_files(REAL_DATA)),
    reason="real MNIST not available: set LSTM_MNIST_DATA_DIR to a folder holding MNIST/raw/ (.ci/run does)",
)
def test_one_epoch_of_the_default_config_reaches_95_percent(tmp_path):
    data_dir = Path(REAL_DATA)
    run_cli("fit", "--trainer.max_epochs", "1", "--trainer.default_root_dir", str(tmp_path), data_dir=data_dir)
    run_dir = tmp_path / "lightning_logs" / "version_0"
    assert len(read_scalars(run_dir)["val/acc"]) == 22  # 1100 steps, validated every 50
    best = next((run_dir / "checkpoints").glob("best-*.ckpt"))
    run_cli("test", "--ckpt_path", str(best), "--trainer.default_root_dir", str(tmp_path), data_dir=data_dir)
    test_acc = read_scalars(tmp_path / "lightning_logs" / "version_1")["test/acc"][0][1]
    assert test_acc >= 0.95
