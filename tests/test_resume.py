"""Exact resume, interrupted runs and determinism, as a user meets them (signals in a process of their own)."""

import os
import signal
import subprocess
import sys

import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from helpers.paths import ROOT
from helpers.reading import read_scalars
from helpers.running import TINY_ARGS, checkpoint_every, run_main
from helpers.waiting import wait_until
from lstm_mnist.training.kept_checkpoints import BestCheckpoint

QUIET = [*TINY_ARGS, "--trainer.enable_progress_bar", "false"]


def weights(path):
    return torch.load(path, weights_only=True)["state_dict"]


def max_difference(a, b):
    assert a.keys() == b.keys()
    return max(float((a[k].float() - b[k].float()).abs().max()) for k in a if a[k].is_floating_point())


@pytest.fixture(scope="module")
def straight(tiny_data, tmp_path_factory):
    """2 epochs (200 steps) of the default one-cycle recipe, keeping a checkpoint every 50 steps."""
    root = tmp_path_factory.mktemp("straight")
    run_main(
        *("fit", *QUIET, "--trainer.max_epochs", "2"),
        *checkpoint_every(50, root / "every50"),
        root=root,
        data_dir=tiny_data,
    )
    return root


@pytest.mark.parametrize("resume_from", ["step=100", "step=150"], ids=["epoch-boundary", "mid-epoch"])
def test_resume_ends_with_the_same_weights(straight, tiny_data, tmp_path, resume_from):
    checkpoint = straight / "every50" / f"{resume_from}.ckpt"
    assert torch.load(checkpoint, weights_only=True)["global_step"] == int(resume_from.split("=")[1])
    run_main(
        "fit", *QUIET, "--trainer.max_epochs", "2", "--ckpt_path", str(checkpoint), root=tmp_path, data_dir=tiny_data
    )
    resumed = tmp_path / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"
    reference = straight / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"
    assert torch.load(resumed, weights_only=True)["global_step"] == 200  # no step lost or repeated
    assert max_difference(weights(resumed), weights(reference)) <= 1e-6
    # the optimizer and the one-cycle schedule were restored, not restarted
    resumed_state = torch.load(resumed, weights_only=True)
    assert resumed_state["lr_schedulers"][0]["_step_count"] == 201
    steps = [step for step, _ in read_scalars(tmp_path / "lightning_logs" / "version_0")["val/acc"]]
    assert steps == [s for s in (150, 200) if s > int(resume_from.split("=")[1])]


def test_same_seed_same_metrics(straight, tiny_data, tmp_path):
    run_main("fit", *QUIET, "--trainer.max_epochs", "2", root=tmp_path, data_dir=tiny_data)
    again = read_scalars(tmp_path / "lightning_logs" / "version_0")
    first = read_scalars(straight / "lightning_logs" / "version_0")
    for tag in ("val/acc", "val/loss", "train/loss", "test/acc"):
        assert again[tag] == first[tag]


@pytest.mark.slow  # a real process and a real signal
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupted_run_saves_a_checkpoint_and_says_how_to_resume(tiny_data, tmp_path, how):
    env = dict(os.environ, LSTM_MNIST_DATA_DIR=str(tiny_data))
    command = [
        sys.executable,
        str(ROOT / "train.py"),
        "fit",
        *QUIET,
        "--model.schedule",
        "constant",
        "--trainer.max_epochs",
        "1000",
        "--trainer.default_root_dir",
        str(tmp_path),
    ]
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    last = tmp_path / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"
    wait_until(last.exists, seconds=120, every=0.2)  # training is under way
    process.send_signal(how)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode != 0
    interrupted = tmp_path / "lightning_logs" / "version_0" / "checkpoints" / "interrupted.ckpt"
    assert interrupted.is_file()
    config = tmp_path / "lightning_logs" / "version_0" / "config.yaml"
    assert f"resume with:  python train.py fit --config {config} --ckpt_path {interrupted}" in stderr
    step = torch.load(interrupted, weights_only=True)["global_step"]
    assert step >= 50

    # the printed command resumes (with fewer epochs, to end soon)
    epochs = step // 100 + 2
    run_main(
        *("fit", "--config", str(config), "--ckpt_path", str(interrupted), "--trainer.max_epochs", str(epochs)),
        data_dir=tiny_data,
    )
    resumed = tmp_path / "lightning_logs" / "version_1" / "checkpoints" / "last.ckpt"
    assert torch.load(resumed, weights_only=True)["global_step"] == epochs * 100


def test_the_best_checkpoint_keeps_its_state_key_from_before_it_had_a_class():
    """Checkpoints written when the best checkpoint was a plain ModelCheckpoint store its state (the
    best score and path) under that class's key; a resumed run must find it there."""
    before = ModelCheckpoint(monitor="val/acc", mode="max", save_top_k=1)
    assert (
        BestCheckpoint().state_key
        == before.state_key
        == (
            "ModelCheckpoint{'monitor': 'val/acc', 'mode': 'max', 'every_n_train_steps': 0, 'every_n_epochs': 1, "
            "'train_time_interval': None}"
        )
    )
