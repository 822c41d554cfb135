"""DDP on two CPU processes: metrics reduced across ranks, rank 0 alone writes, the result reloads."""

import sys

import pytest
import torch
import yaml

from helpers.reading import accuracy, read_scalars
from helpers.running import TINY_ARGS, run_cli
from lstm_mnist import LitLSTMClassifier, MNISTDataModule


@pytest.mark.skipif(not torch.distributed.is_available() or sys.platform == "win32", reason="needs torch.distributed")
@pytest.mark.parametrize(
    "model_flags, steps",
    [
        ([], 50),
        # 784 steps a sequence: 10 training steps a rank, not 50, keep the test to a few seconds
        (["--model.order", "permuted", "--model.cell", "gru", "--model.hidden_size", "8"], 10),
    ],
    ids=["default", "permuted-gru"],
)
def test_two_process_ddp_on_cpu(tiny_data, tmp_path, model_flags, steps):
    result = run_cli(
        *("fit", *TINY_ARGS, *model_flags, "--trainer.max_epochs", "1", "--trainer.enable_progress_bar", "false"),
        *("--trainer.limit_train_batches", str(steps), "--trainer.val_check_interval", str(steps)),
        *("--trainer.accelerator", "cpu", "--trainer.devices", "2", "--trainer.strategy", "ddp"),
        root=tmp_path,
        data_dir=tiny_data,
    )
    assert "Initializing distributed: GLOBAL_RANK: 1, MEMBER: 2/2" in result.out + result.err
    runs = list((tmp_path / "lightning_logs").iterdir())
    assert [run.name for run in runs] == ["version_0"]  # one run folder, written by rank 0
    run_dir = runs[0]
    assert yaml.safe_load((run_dir / "config.yaml").read_text())["trainer"]["strategy"] == "ddp"
    checkpoints = sorted(path.name for path in (run_dir / "checkpoints").iterdir())
    assert len(checkpoints) == 2 and "last.ckpt" in checkpoints  # best + last, no per-rank copies
    assert "last checkpoint:       " + str(run_dir / "checkpoints" / "last.ckpt") in result.out
    assert "trained on:            cpu, 2 processes" in result.out

    # Each rank took its own batches of 5 (an epoch of the 500 images is 50 steps, not 100) and
    # validated half of the 100.
    scalars = read_scalars(run_dir)
    assert [step for step, _ in scalars["val/acc"]] == [steps]
    logged = scalars["val/acc"][0][1]
    best = run_dir / "checkpoints" / next(name for name in checkpoints if name.startswith("best"))
    model = LitLSTMClassifier.load_from_checkpoint(best, map_location="cpu").eval()
    data = MNISTDataModule(data_dir=str(tiny_data), val_size=100)
    data.setup("fit")
    images, labels = data.splits["val"]
    assert logged == pytest.approx(accuracy(model, images, labels), abs=1e-6)  # the accuracy over both ranks' halves
